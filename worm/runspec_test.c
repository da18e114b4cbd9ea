/*  runspec_test.c — the rules of what a run may name: paths that stay
    inside the folder, environment names a client may give, signal words. */
#include "runspec.h"
#include "agent_limits.h"
#include "../tests/check.h"

#include <signal.h>
#include <string.h>

//  Reads a chunk written with these fields (path NULL: none; data NULL:
//  none; more -1: none).
static int
s_chunk (worm_runspec_chunk_t *chunk, char *err, const char *path, const char *type,
         unsigned mode, const void *data, size_t size, int more)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    if (path)
        worm_wire_kstr (&writer, "path", path);
    worm_wire_kstr (&writer, "type", type);
    worm_wire_ku64 (&writer, "mode", mode);
    if (data)
        worm_wire_kbin (&writer, "data", data, size);
    if (more >= 0)
        worm_wire_kbool (&writer, "more", more);
    worm_wire_map_close (&writer);
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    int rc = worm_wire_parse (&reader, worm_wire_writer_data (&writer),
                              worm_wire_writer_size (&writer), 1 << 20);
    if (rc == 0)
        rc = worm_runspec_chunk_read (&reader, chunk, err, 512);
    //  chunk->data points into the reader: compare before it goes
    static char copy[WORM_RUN_CHUNK];
    if (rc == 0 && chunk->size) {
        memcpy (copy, chunk->data, chunk->size);
        chunk->data = copy;
    }
    worm_wire_reader_fini (&reader);
    worm_wire_writer_fini (&writer);
    return rc;
}

int
main (void)
{
    //  Paths: relative and down only
    CHECK (worm_runspec_path_ok ("out"));
    CHECK (worm_runspec_path_ok ("res/sub/a.txt"));
    CHECK (worm_runspec_path_ok (".hidden"));
    CHECK (worm_runspec_path_ok ("a..b"));
    CHECK (!worm_runspec_path_ok (""));
    CHECK (!worm_runspec_path_ok ("/etc/passwd"));
    CHECK (!worm_runspec_path_ok (".."));
    CHECK (!worm_runspec_path_ok ("a/../../b"));
    CHECK (!worm_runspec_path_ok ("./a"));
    CHECK (!worm_runspec_path_ok ("a//b"));
    CHECK (!worm_runspec_path_ok ("a/"));
    CHECK (!worm_runspec_path_ok ("a/."));
    char long_path[WORM_RUN_PATH_MAX + 2];
    memset (long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = 0;
    CHECK (!worm_runspec_path_ok (long_path));
    long_path[WORM_RUN_PATH_MAX] = 0;
    CHECK (worm_runspec_path_ok (long_path));
    //  Environment names: shell names, not the host's own
    CHECK (worm_runspec_env_name_ok ("CFLAGS", 6));
    CHECK (worm_runspec_env_name_ok ("_x1", 3));
    CHECK (worm_runspec_env_name_ok ("PATHX", 5));
    CHECK (worm_runspec_env_name_ok ("FOO=bar", 3));
    CHECK (!worm_runspec_env_name_ok ("PATH", 4));
    CHECK (!worm_runspec_env_name_ok ("HOME", 4));
    CHECK (!worm_runspec_env_name_ok ("WORM_GUEST_MARK", 15));
    CHECK (!worm_runspec_env_name_ok ("1A", 2));
    CHECK (!worm_runspec_env_name_ok ("A-B", 3));
    CHECK (!worm_runspec_env_name_ok ("", 0));
    //  Signals, both ways
    CHECK_EQ (worm_runspec_signal ("INT"), SIGINT);
    CHECK_EQ (worm_runspec_signal ("PIPE"), SIGPIPE);
    CHECK_EQ (worm_runspec_signal ("SEGV"), 0);
    CHECK_EQ (worm_runspec_signal ("int"), 0);
    CHECK_STR (worm_runspec_signal_name (SIGTSTP), "TSTP");
    CHECK (worm_runspec_signal_name (SIGSEGV) == NULL);
    //  Chunks: path, type and mode required; data and more not; the path
    //  and the type checked
    worm_runspec_chunk_t chunk;
    char err[512];
    CHECK_EQ (s_chunk (&chunk, err, "src/a.c", "file", 0100644, "abc", 3, 1), 0);
    CHECK_STR (chunk.path, "src/a.c");
    CHECK (!chunk.dir && chunk.mode == 0644 && chunk.size == 3 && chunk.more);
    CHECK (memcmp (chunk.data, "abc", 3) == 0);
    CHECK_EQ (s_chunk (&chunk, err, "src", "dir", 0755, NULL, 0, -1), 0);
    CHECK (chunk.dir && chunk.mode == 0755 && chunk.size == 0 && !chunk.more);
    CHECK_EQ (s_chunk (&chunk, err, "../x", "file", 0644, "", 0, 0), -1);
    CHECK_HAS (err, "'../x' is not a relative path");
    CHECK_EQ (s_chunk (&chunk, err, "x", "link", 0644, "", 0, 0), -1);
    CHECK_HAS (err, "type 'link' is neither file nor dir");
    CHECK_EQ (s_chunk (&chunk, err, NULL, "file", 0644, "", 0, 0), -1);
    CHECK_HAS (err, "path");
    char big[WORM_RUN_CHUNK + 1];
    memset (big, 'x', sizeof big);
    CHECK_EQ (s_chunk (&chunk, err, "x", "file", 0644, big, sizeof big, 0), -1);
    CHECK_HAS (err, "data");
    return check_done ("runspec");
}
