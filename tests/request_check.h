/*  request_check.h — the request tests' shared checks (worm/request_test.c
    for the agent's table, segments/ops_test.c for the segment's): a
    request held against a table, expected to pass or to fail with one
    sentence. Include after check.h; the last sentence is in s_err. */
#ifndef WORM_REQUEST_CHECK_H_INCLUDED
#define WORM_REQUEST_CHECK_H_INCLUDED

#include "request.h"

static char s_err[WORM_REQUEST_ERROR_MAX];

//  Checks what writer holds against table; the sentence goes to s_err.
//  The writer is emptied for the next request.
static int
request_check (const worm_request_table_t *table, worm_wire_writer_t *writer)
{
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    s_err[0] = 0;
    int rc = worm_request_check (worm_wire_writer_data (writer), worm_wire_writer_size (writer),
                                 table, &reader, s_err, sizeof s_err);
    if (rc == 0)
        CHECK (reader.root != NULL);
    worm_wire_reader_fini (&reader);
    worm_wire_writer_fini (writer);
    worm_wire_writer_init (writer);
    return rc;
}

static void
request_expect_ok (const worm_request_table_t *table, worm_wire_writer_t *writer)
{
    if (request_check (table, writer))
        fprintf (stderr, "refused: %s\n", s_err);
    CHECK_STR (s_err, "");
}

static void
request_expect_error (const worm_request_table_t *table, worm_wire_writer_t *writer,
                      const char *sentence)
{
    CHECK_EQ (request_check (table, writer), -1);
    CHECK_STR (s_err, sentence);
}

//  {"op": op}, the request of every op without fields
static void
request_op_only (worm_wire_writer_t *writer, const char *op)
{
    worm_wire_map_open (writer);
    worm_wire_kstr (writer, "op", op);
    worm_wire_map_close (writer);
}

//  count times c, then a NUL, into buf
static void
request_repeat (char *buf, size_t count, char c)
{
    memset (buf, c, count);
    buf[count] = 0;
}

#endif
