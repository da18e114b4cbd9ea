/*  fuzz_token.c — libFuzzer harness for the token decoder. A token that
    decodes must encode, and that encoding must decode to the same bytes. */
#include "token.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    worm_token_t *token = NULL;
    char err[WORM_TOKEN_ERROR_MAX];
    if (worm_token_decode (data, size, &token, err, sizeof err) == 0) {
        uint8_t *first = NULL, *second = NULL;
        size_t first_size = 0, second_size = 0;
        worm_token_t *again = NULL;
        if (worm_token_encode (token, &first, &first_size, err, sizeof err)
            || worm_token_decode (first, first_size, &again, err, sizeof err)
            || worm_token_encode (again, &second, &second_size, err, sizeof err)
            || first_size != second_size || memcmp (first, second, first_size) != 0)
            abort ();
        free (first);
        free (second);
        worm_token_destroy (&again);
        worm_token_destroy (&token);
    }
    return 0;
}
