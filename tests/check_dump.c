/* check_dump.c -- recordings (engine/dump.c): the keys another program's
 * recording adds to index.json (prompt_tokens, model, engine_identity,
 * unmapped, missing, notes) round-trip, old recordings still load, a
 * malformed key is rejected, and a replayed recording names its recorder. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine/dump.h"
#include "engine/registry.h"
#include "format/model.h"
#include "testutil.h"

static const char sha[] = "5d700478f352653530919067b31e92d819d0f6d23f76954aab960d0d96660b2b";

/* A two-tap recording of 3 positions with every optional key set. */
static tc_dump *full_dump(void)
{
    tc_dump *d = tc_dump_new();
    tc_err err = { 0 };
    float f[3 * 4];
    for (int i = 0; i < 12; i++) f[i] = 2.385f * (float)i;
    tc_tap t = { .id = TC_TAP_INP_EMBD, .name = "inp_embd", .layer = -1, .pos0 = 0, .n_pos = 2, .width = 4,
                 .kind = TC_TAP_F32, .f = f };
    ck_assert_int_eq(tc_dump_tap_fn(d, &t, &err), TC_OK);
    t.pos0 = 2, t.n_pos = 1, t.f = f + 8;
    ck_assert_int_eq(tc_dump_tap_fn(d, &t, &err), TC_OK);
    const int32_t tok[3] = { 1, 72, 101 };
    ck_assert_int_eq(tc_dump_add_tokens(d, tok, 3, &err), TC_OK);
    ck_assert_int_eq(tc_dump_set_engine(d, "bitnet.cpp", "i2s", &err), TC_OK);
    tc_dump_set_prompt_tokens(d, 2);
    ck_assert_int_eq(tc_dump_set_model(d, "small.gguf", sha, &err), TC_OK);
    cJSON *id = cJSON_CreateObject();
    cJSON_AddStringToObject(id, "engine", "bitnet.cpp");
    cJSON_AddStringToObject(id, "commit", "40ed0f290203a9a78540b8f7eb18bd828043fe21");
    cJSON_AddNumberToObject(id, "threads", 2);
    tc_dump_set_identity(d, id);
    const int64_t ne[3] = { 64, 8, 2 };
    ck_assert_int_eq(tc_dump_add_unmapped(d, "kq-0", "MUL_MAT", ne, 3, &err), TC_OK);
    ck_assert_int_eq(tc_dump_add_unmapped(d, "kq-0", "MUL_MAT", ne, 3, &err), TC_OK);   /* listed once */
    ck_assert_int_eq(tc_dump_add_unmapped(d, "norm-0", "RMS_NORM", ne, 2, &err), TC_OK);
    ck_assert_int_eq(tc_dump_add_missing(d, "blk.0.attn_norm.q8", "quantized inside the matmul", &err), TC_OK);
    ck_assert_int_eq(tc_dump_add_missing(d, "blk.0.attn_norm.q8", "again", &err), TC_OK);
    ck_assert_int_eq(tc_dump_add_note(d, "KV cache F32", &err), TC_OK);
    return d;
}

START_TEST(extras_round_trip)
{
    tc_dump *d = full_dump();
    ck_assert_uint_eq(tc_dump_n_unmapped(d), 2);
    ck_assert_uint_eq(tc_dump_n_missing(d), 1);
    char *dir = tu_temp_path(".rec");
    tc_err err = { 0 };
    ck_assert_msg(tc_dump_write(d, dir, &err) == TC_OK, "%s", err.msg);
    tc_dump *e;
    ck_assert_msg(tc_dump_load(dir, &e, &err) == TC_OK, "%s", err.msg);
    ck_assert_uint_eq(tc_dump_prompt_tokens(e), 2);
    ck_assert_str_eq(tc_dump_model_sha256(e), sha);
    ck_assert_str_eq(tc_dump_engine(e), "bitnet.cpp");
    const cJSON *id = tc_dump_identity(e);
    ck_assert_ptr_nonnull(id);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(id, "commit")), "40ed0f290203a9a78540b8f7eb18bd828043fe21");
    ck_assert_uint_eq(tc_dump_n_unmapped(e), 2);
    ck_assert_str_eq(tc_dump_unmapped(e, 1), "norm-0");
    const char *why;
    ck_assert_uint_eq(tc_dump_n_missing(e), 1);
    ck_assert_str_eq(tc_dump_missing(e, 0, &why), "blk.0.attn_norm.q8");
    ck_assert_str_eq(why, "quantized inside the matmul");
    ck_assert_uint_eq(tc_dump_n_notes(e), 1);
    ck_assert_str_eq(tc_dump_note(e, 0), "KV cache F32");
    const tc_dump_tap *t = tc_dump_find(e, "inp_embd");
    ck_assert_uint_eq(t->n_pos, 3);
    ck_assert_float_eq(t->f[11], 2.385f * 11.0f);
    tc_dump_free(d);
    tc_dump_free(e);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}
END_TEST

/* A recorder with nothing to report says so: empty lists, not absent. */
START_TEST(empty_lists_written_for_a_recorder)
{
    tc_dump *d = tc_dump_new();
    tc_err err = { 0 };
    const int32_t tok[1] = { 1 };
    ck_assert_int_eq(tc_dump_add_tokens(d, tok, 1, &err), TC_OK);
    tc_dump_set_identity(d, cJSON_CreateObject());
    char *dir = tu_temp_path(".rec");
    ck_assert_int_eq(tc_dump_write(d, dir, &err), TC_OK);
    char path[4200];
    snprintf(path, sizeof path, "%s/index.json", dir);
    size_t n;
    char *txt = (char *)tu_read_gz(path, &n);
    cJSON *root = cJSON_ParseWithLength(txt, n);
    ck_assert(cJSON_IsArray(cJSON_GetObjectItem(root, "unmapped")));
    ck_assert(cJSON_IsArray(cJSON_GetObjectItem(root, "missing")));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "missing")), 0);
    ck_assert_ptr_null(cJSON_GetObjectItem(root, "notes"));
    cJSON_Delete(root);
    free(txt);
    unlink(path);
    rmdir(dir);
    free(dir);
    tc_dump_free(d);
}
END_TEST

/* bitnet.cpp's old recording (no optional key) loads as before. */
START_TEST(old_recording_loads)
{
    tc_dump *d;
    tc_err err = { 0 };
    ck_assert_msg(tc_dump_load(tu_vector_path("external/bitnet-cpp/i2_s"), &d, &err) == TC_OK, "%s", err.msg);
    ck_assert_uint_eq(tc_dump_n_taps(d), 37);
    ck_assert_uint_eq(tc_dump_prompt_tokens(d), 0);
    ck_assert_str_eq(tc_dump_model_sha256(d), "");
    ck_assert_ptr_null(tc_dump_identity(d));
    ck_assert_uint_eq(tc_dump_n_unmapped(d) + tc_dump_n_missing(d) + tc_dump_n_notes(d), 0);
    tc_dump_free(d);
}
END_TEST

/* The replayed recording names its recorder and model in the receipt. */
START_TEST(replay_describes_its_recorder)
{
    char *gz = tu_gunzip_temp(tu_vector_path("external/bitnet-cpp/tiny-bitnet-b158-i2_s.gguf.gz"));
    tc_model *m;
    tc_err err = { 0 };
    ck_assert_int_eq(tc_model_load(gz, &m, &err), TC_OK);
    tc_dump *d = full_dump();
    char *dir = tu_temp_path(".rec");
    ck_assert_int_eq(tc_dump_write(d, dir, &err), TC_OK);
    char name[4200];
    snprintf(name, sizeof name, "dump:%s", dir);
    tc_engine *e;
    ck_assert_msg(tc_engine_open(name, m, NULL, &e, &err) == TC_OK, "%s", err.msg);
    cJSON *desc = tc_engine_describe(e);
    const cJSON *rb = cJSON_GetObjectItem(desc, "recorded_by");
    ck_assert_ptr_nonnull(rb);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(rb, "engine")), "bitnet.cpp");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(desc, "model_sha256")), sha);
    cJSON_Delete(desc);
    tc_engine_free(e);
    tc_dump_free(d);
    tc_model_free(m);
    snprintf(name, sizeof name, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(name), 0);
    unlink(gz);
    free(gz), free(dir);
}
END_TEST

/* ---- errors ---- */

/* Write the full recording, then replace one key of its index.json with
 * `value` (JSON text) and expect TC_E_FORMAT naming the key. */
static void expect_bad(const char *key, const char *value)
{
    tc_dump *d = full_dump();
    char *dir = tu_temp_path(".rec");
    tc_err err = { 0 };
    ck_assert_int_eq(tc_dump_write(d, dir, &err), TC_OK);
    char path[4200];
    snprintf(path, sizeof path, "%s/index.json", dir);
    size_t n;
    char *txt = (char *)tu_read_gz(path, &n);
    cJSON *root = cJSON_ParseWithLength(txt, n);
    cJSON_ReplaceItemInObject(root, key, cJSON_Parse(value));
    char *out = cJSON_Print(root);
    FILE *fp = fopen(path, "w");
    fputs(out, fp);
    fclose(fp);
    tc_dump *e = NULL;
    ck_assert_int_eq(tc_dump_load(dir, &e, &err), TC_E_FORMAT);
    ck_assert_msg(strstr(err.msg, key) != NULL, "message names %s: %s", key, err.msg);
    ck_assert_ptr_null(e);
    free(out), free(txt);
    cJSON_Delete(root);
    tc_dump_free(d);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(path), 0);
    free(dir);
}

START_TEST(malformed_extras_rejected)
{
    expect_bad("prompt_tokens", "0");
    expect_bad("prompt_tokens", "4");        /* more than the 3 tokens */
    expect_bad("prompt_tokens", "1.5");
    expect_bad("model", "{\"sha256\": \"5D70\"}");
    expect_bad("engine_identity", "\"bitnet.cpp\"");
    expect_bad("unmapped", "{}");
    expect_bad("unmapped", "[{\"op\": \"ADD\"}]");
    expect_bad("missing", "[\"blk.0.q\"]");
    expect_bad("notes", "[1]");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dump");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");
    tcase_add_test(core, extras_round_trip);
    tcase_add_test(core, empty_lists_written_for_a_recorder);
    tcase_add_test(core, old_recording_loads);
    tcase_add_test(core, replay_describes_its_recorder);
    tcase_add_test(errors, malformed_extras_rejected);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return tu_run(s);
}
