/* Tests for the small shared modules: utf8, json, fsutil, status. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/fsutil.h"
#include "engine/util/json.h"
#include "engine/util/status.h"
#include "engine/util/utf8.h"
#include "harness.h"

Test(utf8, rejects_overlong_surrogate_and_truncated) {
    uint32_t cp;
    cr_expect_eq(utf8_decode("\xC0\x80", 2, &cp), 0, "overlong NUL");
    cr_expect_eq(utf8_decode("\xED\xA0\x80", 3, &cp), 0, "surrogate");
    cr_expect_eq(utf8_decode("\xF4\x90\x80\x80", 4, &cp), 0, "above U+10FFFF");
    cr_expect_eq(utf8_decode("\xE4\xBD", 2, &cp), 0, "truncated");
    cr_expect_eq(utf8_decode("\xE4\xBD\xA0", 3, &cp), 3);
    cr_expect_eq(cp, 0x4F60);
}

Test(utf8, complete_prefix_holds_back_partial_character) {
    const char *s = "a\xE4\xBD\xA0"; /* a + 你 */
    cr_expect_eq(utf8_complete_prefix(s, 4), 4);
    cr_expect_eq(utf8_complete_prefix(s, 3), 1);
    cr_expect_eq(utf8_complete_prefix(s, 2), 1);
    cr_expect_eq(utf8_complete_prefix(s, 1), 1);
    cr_expect_eq(utf8_complete_prefix("\xF0\x9F\x98\x80", 3), 0);
}

Test(utf8, encode_roundtrip) {
    uint32_t cps[] = {0x24, 0xA2, 0x20AC, 0x10348, 0x10FFFF};
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        char b[4];
        size_t n = utf8_encode(cps[i], b);
        uint32_t back;
        cr_expect_eq(utf8_decode(b, n, &back), n);
        cr_expect_eq(back, cps[i]);
    }
}

Test(json, errors_name_file_line_and_column) {
    cJSON *j;
    cr_expect_eq(json_parse_text("{\n  \"a\": 1,\n  \"b\": }", 21, "x.json", &j), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "x.json:3:") != NULL, "got: %s", err_msg());
    cr_expect_eq(json_parse_text("{\"a\": 1", 7, "t.json", &j), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "truncated") != NULL, "got: %s", err_msg());
    cr_expect_eq(json_parse_text("{\"a\": \"\xff\"}", 10, "u.json", &j), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "UTF-8") != NULL, "got: %s", err_msg());
    cr_expect_eq(json_parse_text("{} x", 4, "v.json", &j), STATUS_FORMAT);
}

Test(json, typed_getters_check_type_and_range) {
    cJSON *j;
    const char *t = "{\"n\": 3, \"f\": 2.5, \"s\": \"x\", \"b\": true, \"neg\": -1}";
    cr_assert_eq(json_parse_text(t, strlen(t), "c.json", &j), STATUS_OK);
    int64_t i;
    cr_expect_eq(json_get_int(j, "n", true, 0, 0, 10, &i, "c.json"), STATUS_OK);
    cr_expect_eq(i, 3);
    cr_expect_eq(json_get_int(j, "f", true, 0, 0, 10, &i, "c.json"), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "\"f\"") != NULL);
    cr_expect_eq(json_get_int(j, "neg", true, 0, 0, 10, &i, "c.json"), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "out of range") != NULL);
    cr_expect_eq(json_get_int(j, "missing", true, 0, 0, 10, &i, "c.json"), STATUS_FORMAT);
    cr_expect(strstr(err_msg(), "missing field \"missing\"") != NULL);
    cr_expect_eq(json_get_int(j, "missing", false, 7, 0, 10, &i, "c.json"), STATUS_OK);
    cr_expect_eq(i, 7);
    const char *s;
    cr_expect_eq(json_get_string(j, "n", true, NULL, &s, "c.json"), STATUS_FORMAT);
    cJSON_Delete(j);
}

Test(json, escape_neutralises_control_characters) {
    char out[64];
    json_escape(out, sizeof out, "a\"b\\\n\x1b[31m");
    cr_expect_str_eq(out, "\"a\\\"b\\\\\\n\\u001b[31m\"");
}

Test(fsutil, atomic_write_replaces_whole_file) {
    char *dir = th_tmpdir("fs");
    char path[512];
    snprintf(path, sizeof path, "%s/a/b/c.txt", dir);
    char parent[512];
    fs_dirname(parent, sizeof parent, path);
    cr_assert_eq(fs_mkdir_p(parent), STATUS_OK, "%s", err_msg());
    cr_assert_eq(fs_write_atomic(path, "hello", 5), STATUS_OK, "%s", err_msg());
    cr_assert_eq(fs_write_atomic(path, "bye", 3), STATUS_OK, "%s", err_msg());
    char *text;
    size_t len;
    cr_assert_eq(fs_read_file(path, 100, &text, &len), STATUS_OK);
    cr_expect_str_eq(text, "bye");
    free(text);
    cr_expect_eq(fs_read_file(path, 2, &text, &len), STATUS_FORMAT, "size cap");
    cr_expect_eq(fs_read_file(dir, 100, &text, &len), STATUS_IO, "directory");
    cr_expect_eq(fs_remove_tree(dir), STATUS_OK);
    cr_expect(!fs_exists(dir));
    free(dir);
}

Test(status, prefix_and_hint) {
    err_set(STATUS_FORMAT, "bad value");
    err_prefix("%s: ", "cfg.json");
    err_hint("use a number");
    cr_expect_str_eq(err_msg(), "cfg.json: bad value");
    cr_expect_str_eq(err_hint_text(), "use a number");
    err_set(STATUS_IO, "other");
    cr_expect_str_eq(err_hint_text(), "");
}
