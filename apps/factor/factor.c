/*  factor.c — the factor command's entry point. See factor.h. */
#include "factor.h"
#include "word.h"

#include <ctype.h>
#include <errno.h>
#include <langinfo.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

#define S_STRING(x) #x
#define S_DIGITS(x) S_STRING (x)
const char worm_factor_method_help [] =
    "Numbers below 2^64 are factored in machine words: trial division, Pollard's\n"
    "rho (Brent) and a deterministic Miller-Rabin test (7 bases). Larger ones use\n"
    "GMP: trial division, a bounded Pollard rho, then, for composites of at most\n"
    S_DIGITS (WORM_FACTOR_SIQS_DIGITS) " digits, a self-initializing quadratic sieve (SIQS: one core, in\n"
    "this process; from 55 digits after ECM for factors of up to 4/13 of the\n"
    "digits, or in a worm beside ECM on its segments), and above that, or when\n"
    "the sieve gives up, ECM (libecm, B1 from 2e3 to 85e7 along GMP-ECM's\n"
    "schedule). Every factor found is checked by division, and every prime\n"
    "printed passed GMP's mpz_probab_prime_p with 30 rounds: a Baillie-PSW test\n"
    "followed by 6 Miller-Rabin rounds with random bases.\n";

//  One call's state.
typedef struct {
    const char *prog;                   //  the name errors start with
    FILE *out;                          //  where results go
    FILE *err;                          //  where refusals go
    const worm_factor_config_t *config; //  how big numbers are factored
    bool flush_lines;                   //  flush out after each line (interactive input)
    int status;                         //  the exit status so far
    bool stopped;                       //  the runner cannot go on: no more numbers
} s_ctx_t;

//  A byte buffer that grows.
typedef struct {
    char *data;                 //  the bytes, NUL-terminated when used as a string
    size_t size;                //  bytes used
    size_t room;                //  bytes allocated
} s_buf_t;

static int
s_buf_put (s_buf_t *b, const char *bytes, size_t n)
{
    if (b->size + n + 1 > b->room) {
        size_t room = b->room ? b->room : 256;
        while (b->size + n + 1 > room)
            room *= 2;
        char *data = realloc (b->data, room);
        if (!data)
            return -ENOMEM;
        b->data = data;
        b->room = room;
    }
    memcpy (b->data + b->size, bytes, n);
    b->size += n;
    b->data [b->size] = 0;
    return 0;
}

//  Appends token as gnulib's quote() writes it in locale_quoting_style,
//  which coreutils uses: curly quotes in a UTF-8 locale, apostrophes
//  otherwise; backslash, the closing quote, control characters (C escapes
//  or three octal digits) and bytes that are not printable characters of
//  the locale (octal) escaped.
static int
s_quote (s_buf_t *b, const char *token)
{
    const char *codeset = nl_langinfo (CODESET);
    bool utf8 = codeset && strcmp (codeset, "UTF-8") == 0;
    const char *open = utf8 ? "\xe2\x80\x98" : "'";
    const char *close = utf8 ? "\xe2\x80\x99" : "'";
    size_t close_len = strlen (close);
    bool multibyte = MB_CUR_MAX > 1;
    int rc = s_buf_put (b, open, strlen (open));
    size_t len = strlen (token);
    mbstate_t state;
    memset (&state, 0, sizeof state);
    for (size_t i = 0; i < len && rc == 0;) {
        unsigned char c = (unsigned char) token [i];
        if (i + close_len <= len && memcmp (token + i, close, close_len) == 0) {
            rc = s_buf_put (b, "\\", 1);
            if (rc == 0)
                rc = s_buf_put (b, token + i, close_len);
            i += close_len;
            continue;
        }
        const char *escape = NULL;
        switch (c) {
            case '\a': escape = "\\a"; break;
            case '\b': escape = "\\b"; break;
            case '\f': escape = "\\f"; break;
            case '\n': escape = "\\n"; break;
            case '\r': escape = "\\r"; break;
            case '\t': escape = "\\t"; break;
            case '\v': escape = "\\v"; break;
            case '\\': escape = "\\\\"; break;
            default: break;
        }
        if (escape) {
            rc = s_buf_put (b, escape, 2);
            i++;
            continue;
        }
        //  How many bytes the next character takes, and whether it prints
        size_t bytes = 1;
        bool printable;
        if (multibyte) {
            wchar_t wc;
            size_t n = mbrtowc (&wc, token + i, len - i, &state);
            if (n == (size_t) -1 || n == (size_t) -2) {
                //  An invalid or cut sequence: its bytes are escaped one by one
                memset (&state, 0, sizeof state);
                bytes = n == (size_t) -2 ? len - i : 1;
                printable = false;
            }
            else {
                bytes = n ? n : 1;
                printable = iswprint ((wint_t) wc) != 0;
            }
        }
        else
            printable = isprint (c) != 0;
        if (printable)
            rc = s_buf_put (b, token + i, bytes);
        else
            for (size_t k = 0; k < bytes && rc == 0; k++) {
                char octal [5];
                snprintf (octal, sizeof octal, "\\%03o", (unsigned char) token [i + k]);
                rc = s_buf_put (b, octal, 4);
            }
        i += bytes;
    }
    if (rc == 0)
        rc = s_buf_put (b, close, close_len);
    return rc;
}

//  Reports a refused token: "PROG: ‘TOKEN’ REASON".
static void
s_refuse (s_ctx_t *ctx, const char *token, const char *reason)
{
    s_buf_t b = {NULL, 0, 0};
    if (s_quote (&b, token) == 0)
        fprintf (ctx->err, "%s: %s %s\n", ctx->prog, b.data, reason);
    else
        fprintf (ctx->err, "%s: out of memory\n", ctx->prog);
    free (b.data);
    ctx->status = 1;
}

//  Writes v in decimal at p, returns the end.
static char *
s_put_u64 (char *p, uint64_t v)
{
    char digits [20];
    int n = 0;
    do {
        digits [n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = digits [--n];
    return p;
}

static void
s_line_done (s_ctx_t *ctx)
{
    if (ctx->flush_lines)
        fflush (ctx->out);
}

static void
s_factor_word (s_ctx_t *ctx, uint64_t n)
{
    uint64_t factors [WORM_FACTOR_WORD_MAX];
    int count = worm_factor_word (n, factors);
    //  "N:" and 64 factors of 20 digits and a space each, and the newline
    char line [22 + WORM_FACTOR_WORD_MAX * 21 + 1];
    char *p = s_put_u64 (line, n);
    *p++ = ':';
    for (int i = 0; i < count; i++) {
        *p++ = ' ';
        p = s_put_u64 (p, factors [i]);
    }
    *p++ = '\n';
    fwrite_unlocked (line, 1, (size_t) (p - line), ctx->out);
    s_line_done (ctx);
}

static void
s_factor_big (s_ctx_t *ctx, const char *digits)
{
    mpz_t n;
    if (mpz_init_set_str (n, digits, 10) != 0) {
        //  Cannot happen: the digits were checked
        mpz_clear (n);
        fprintf (ctx->err, "%s: cannot read %s\n", ctx->prog, digits);
        ctx->status = 1;
        return;
    }
    worm_factor_list_t primes;
    worm_factor_list_init (&primes);
    int rc = worm_factor_mpz (n, ctx->config, &primes, NULL);
    if (rc == -EINTR) {
        //  Ctrl-C: what is printed stays, nothing more is factored; the
        //  caller says so (it knows what the interruption did)
        ctx->status = 130;
        ctx->stopped = true;
    }
    else if (rc == -EHOSTUNREACH) {
        //  The runner said why (no segment left); the next numbers would fail alike
        fprintf (ctx->err, "%s: cannot factor %s: no segment left to run its ECM units\n",
                 ctx->prog, digits);
        ctx->status = 1;
        ctx->stopped = true;
    }
    else if (rc < 0) {
        fprintf (ctx->err, "%s: cannot factor %s: %s\n", ctx->prog, digits, strerror (-rc));
        ctx->status = 1;
    }
    else {
        mpz_out_str (ctx->out, 10, n);
        putc_unlocked (':', ctx->out);
        for (size_t i = 0; i < primes.count; i++) {
            putc_unlocked (' ', ctx->out);
            mpz_out_str (ctx->out, 10, primes.items [i]);
        }
        putc_unlocked ('\n', ctx->out);
        s_line_done (ctx);
    }
    worm_factor_list_clear (&primes);
    mpz_clear (n);
}

//  Factors one token (a C string: coreutils stops at a NUL too) or refuses it.
static void
s_token (s_ctx_t *ctx, const char *token)
{
    const char *s = token;
    while (*s == ' ')
        s++;
    if (*s == '+')
        s++;
    size_t len = 0;
    while (s [len] >= '0' && s [len] <= '9')
        len++;
    if (len == 0 || s [len] != 0) {
        s_refuse (ctx, token, "is not a valid positive integer");
        return;
    }
    while (len > 1 && *s == '0') {
        s++;
        len--;
    }
    if (len > WORM_FACTOR_MAX_DIGITS) {
        fprintf (ctx->err, "%s: a number of %zu digits is too large (at most %d)\n", ctx->prog, len,
                 WORM_FACTOR_MAX_DIGITS);
        ctx->status = 1;
        return;
    }
    if (len < 20 || (len == 20 && strcmp (s, "18446744073709551615") <= 0)) {
        uint64_t n = 0;
        for (size_t i = 0; i < len; i++)
            n = n * 10 + (uint64_t) (s [i] - '0');
        s_factor_word (ctx, n);
    }
    else
        s_factor_big (ctx, s);
}

//  Reads in token by token. A token longer than the digit limit allows is
//  not kept whole: its first bytes decide what is reported.
static void
s_read (s_ctx_t *ctx, FILE *in)
{
    s_buf_t token = {NULL, 0, 0};
    //  Room for the longest number coreutils-style tokens may carry
    const size_t keep = WORM_FACTOR_MAX_DIGITS + 64;
    size_t length = 0;          //  the token's length, kept or not
    int c;
    do {
        if (ctx->stopped)
            break;
        c = getc_unlocked (in);
        if (c == ' ' || c == '\t' || c == '\n' || c == EOF) {
            if (length > 0) {
                if (length > keep) {
                    //  All digits so far: too large; otherwise refused as typed
                    size_t digits = strspn (token.data, "+0123456789");
                    if (digits == token.size)
                        fprintf (ctx->err, "%s: a number of %zu digits is too large (at most %d)\n",
                                 ctx->prog, length, WORM_FACTOR_MAX_DIGITS);
                    else
                        s_refuse (ctx, token.data, "is not a valid positive integer");
                    ctx->status = 1;
                }
                else
                    s_token (ctx, token.data);
            }
            token.size = 0;
            length = 0;
            continue;
        }
        char byte = (char) c;
        if (length++ < keep && s_buf_put (&token, &byte, 1) < 0) {
            fprintf (ctx->err, "%s: out of memory\n", ctx->prog);
            ctx->status = 1;
            break;
        }
    } while (c != EOF);
    if (ferror (in)) {
        fprintf (ctx->err, "%s: read error: %s\n", ctx->prog, strerror (errno));
        ctx->status = 1;
    }
    free (token.data);
}

int
worm_factor_main (const char *prog, int argc, char **argv, FILE *in, FILE *out, FILE *err,
                  const worm_factor_config_t *config)
{
    s_ctx_t ctx = {prog, out, err, config, false, 0, false};
    if (argc > 0)
        for (int i = 0; i < argc && !ctx.stopped; i++)
            s_token (&ctx, argv [i]);
    else {
        ctx.flush_lines = isatty (fileno (in));
        s_read (&ctx, in);
    }
    if (fflush (out) != 0 || ferror (out)) {
        fprintf (err, "%s: write error: %s\n", prog, strerror (errno));
        ctx.status = 1;
    }
    return ctx.status;
}
