/* tokenizer: Hugging Face tokenizer.json, byte-level BPE (GPT-2 / Qwen2 / Llama-3 style).
 *
 * Encoding follows the tokenizers library step by step so that ids are identical: added tokens are split
 * out first (special ones never normalised or merged), the normalizer (NFC/NFKC/...) runs on the rest, the
 * pre-tokenizer splits it (ByteLevel with the GPT-2 regex, or Split(regex) then ByteLevel, in a Sequence),
 * bytes are mapped to their printable stand-ins, BPE merges each piece by merge rank (ignore_merges
 * honoured), and the post-processor adds BOS/EOS when asked. Decoding maps back to bytes; invalid UTF-8 is
 * replaced with U+FFFD as tokenizers does. The streaming decoder emits text only at character boundaries.
 *
 * A loaded tokenizer is immutable: encode/decode may run from several threads at once. Unsupported
 * components (e.g. a WordPiece model) are refused at load time with STATUS_UNSUPPORTED naming the field. */
#ifndef R1LAB_TOKENIZER_H
#define R1LAB_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/util/status.h"

struct tokenizer;

/* A growable id array owned by the caller; zero-initialise, then free with token_buf_free. */
struct token_buf {
    int32_t *ids;
    size_t n, cap;
};
enum status token_buf_push(struct token_buf *b, int32_t id);
void token_buf_free(struct token_buf *b);

/* path: a tokenizer.json file, or a directory containing one. */
enum status tokenizer_load(struct tokenizer **out, const char *path);
void tokenizer_free(struct tokenizer *tok); /* accepts NULL */

/* Appends the ids of text[0..len) to out. add_special_tokens applies the post-processor (e.g. Llama-3's
 * BOS), like tokenizers' encode(text, add_special_tokens=True). Text must be valid UTF-8 (else
 * STATUS_INVALID); on any failure nothing is appended. */
enum status tokenizer_encode(const struct tokenizer *tok, const char *text, size_t len, bool add_special_tokens,
                             struct token_buf *out);
/* Decodes ids into a malloc'd NUL-terminated string (*len bytes). skip_special drops special added tokens.
 * An id outside the vocabulary is STATUS_INVALID. */
enum status tokenizer_decode(const struct tokenizer *tok, const int32_t *ids, size_t n, bool skip_special,
                             char **text, size_t *len);

/* Number of ids (largest id + 1, added tokens included). */
size_t tokenizer_vocab_size(const struct tokenizer *tok);
/* Id of an exact token string (vocabulary entry or added token content), or -1. */
int32_t tokenizer_token_id(const struct tokenizer *tok, const char *token);
/* The token's string as stored (byte-level stand-ins for vocabulary entries), or NULL for an unused id. */
const char *tokenizer_token_str(const struct tokenizer *tok, int32_t id);
bool tokenizer_is_special(const struct tokenizer *tok, int32_t id);
/* The path it was loaded from (for messages and for copying into checkpoints). */
const char *tokenizer_path(const struct tokenizer *tok);

/* Runs the steps of encoding that come before BPE (added tokens cut out, normalizer, pre-tokenizer) and
 * calls fn with the raw bytes of each piece BPE would merge; added tokens are skipped. For BPE training. */
typedef enum status (*tokenizer_piece_fn)(void *user, const char *bytes, size_t len);
enum status tokenizer_pretokenize(const struct tokenizer *tok, const char *text, size_t len, tokenizer_piece_fn fn,
                                  void *user);
/* The byte-level stand-in character of a byte (GPT-2's table) as UTF-8 into out; returns its length (1-2). */
size_t tokenizer_byte_standin(uint8_t byte, char out[4]);

/* Streaming decode: push ids one at a time and get back the text that became complete. Bytes of a
 * character split across tokens are held until the character is whole; invalid sequences come out as
 * U+FFFD, exactly as a full decode of the same ids would produce. */
struct tokenizer_stream {
    char pending[16]; /* bytes of an incomplete UTF-8 character */
    size_t n_pending;
    bool skip_special;
};
void tokenizer_stream_init(struct tokenizer_stream *s, bool skip_special);
/* Writes the newly complete text (NUL-terminated) into out and returns its length; out must hold at least
 * tokenizer_max_token_bytes(tok) + 32 bytes. An id outside the vocabulary produces nothing. */
size_t tokenizer_stream_push(const struct tokenizer *tok, struct tokenizer_stream *s, int32_t id, char *out,
                             size_t cap);
/* Emits whatever is still pending (as U+FFFD if incomplete). */
size_t tokenizer_stream_flush(struct tokenizer_stream *s, char *out, size_t cap);
/* The most text one token can decode to, counting each of its bytes as a possible 3-byte U+FFFD. */
size_t tokenizer_max_token_bytes(const struct tokenizer *tok);

#endif
