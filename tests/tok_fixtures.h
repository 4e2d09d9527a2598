/* tok_fixtures: the golden tokenizer cases (tests/fixtures/tokenizers/cases.jsonl, written by
 * tests/ref/make_tokenizer_fixtures.py with Hugging Face tokenizers) loaded for the C tests. One case is one
 * (tokenizer, text) pair with the ids tokenizers produced, with and without special tokens, and the text it
 * decodes them back to. */
#ifndef R1LAB_TEST_TOK_FIXTURES_H
#define R1LAB_TEST_TOK_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

struct tok_case {
    char tokenizer[32]; /* directory name under tests/fixtures/tokenizers */
    int line;           /* in cases.jsonl, for messages */
    char *text;
    int32_t *ids, *ids_special;
    size_t n_ids, n_ids_special;
    char *decoded, *decoded_skip; /* decode(ids_special) without / with skip_special_tokens */
};

/* Loads every case, or only those of one tokenizer (name != NULL). Aborts the test on a malformed file. */
struct tok_case *tok_cases_load(const char *name, size_t *n);
void tok_cases_free(struct tok_case *cases, size_t n);
/* Path of a fixture tokenizer directory (malloc'd). */
char *tok_fixture_dir(const char *name);

#endif
