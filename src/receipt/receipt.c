/* receipt.c -- the receipt document: provenance, the model, files. */
#include "config.h"
#include "tc_commit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fileio.h"
#include "base/gpu.h"
#include "base/host.h"
#include "base/json.h"
#include "base/sha256.h"
#include "receipt/receipt.h"

#ifndef TC_BUILD_CFLAGS
#define TC_BUILD_CFLAGS "unknown"
#endif

/* ---- tool and host ---- */

static void add_tool(cJSON *root)
{
    cJSON *t = cJSON_AddObjectToObject(root, "tool");
    cJSON_AddStringToObject(t, "name", "tritcheck");
    cJSON_AddStringToObject(t, "version", PACKAGE_VERSION);
    cJSON_AddStringToObject(t, "git_commit", TC_GIT_COMMIT);
#ifdef __VERSION__
    cJSON_AddStringToObject(t, "compiler", __VERSION__);
#endif
    cJSON_AddStringToObject(t, "cflags", TC_BUILD_CFLAGS);
    cJSON_AddBoolToObject(t, "cuda_built", tc_cuda_built());
}

static void add_host(cJSON *root)
{
    cJSON *h = cJSON_AddObjectToObject(root, "host");
    char buf[400];
    tc_host_os(buf, sizeof buf);
    if (buf[0]) cJSON_AddStringToObject(h, "os", buf);
    tc_cpu_model(buf, sizeof buf);
    cJSON_AddStringToObject(h, "cpu_model", buf);
    cJSON_AddNumberToObject(h, "cpus_online", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON *f = cJSON_AddArrayToObject(h, "cpu_features");
    for (int i = 0; i < TC_CPU_N_FEATURES; i++)
        if (tc_cpu_has((tc_cpu_feature)i)) cJSON_AddItemToArray(f, cJSON_CreateString(tc_cpu_feature_name((tc_cpu_feature)i)));
    cJSON *g = cJSON_AddArrayToObject(h, "gpus");
    tc_gpu_info info[8];
    int n = 0;
    if (tc_cuda_built() && tc_cuda_devices(info, 8, &n, NULL) == TC_OK) {
        for (int i = 0; i < n && i < 8; i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "name", info[i].name);
            cJSON_AddNumberToObject(d, "driver_version", info[i].driver_version);
            cJSON_AddNumberToObject(d, "runtime_version", info[i].runtime_version);
            cJSON_AddItemToArray(g, d);
        }
    }
}

cJSON *tc_receipt_new(const char *kind)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "schema", TC_RECEIPT_SCHEMA);
    cJSON_AddStringToObject(root, "kind", kind);
    char when[32];
    tc_utc_timestamp(when, sizeof when);
    cJSON_AddStringToObject(root, "created", when);
    add_tool(root);
    add_host(root);
    return root;
}

cJSON *tc_hparams_json(const tc_hparams *hp, bool with_arch)
{
    cJSON *h = cJSON_CreateObject();
    if (with_arch) cJSON_AddStringToObject(h, "architecture", hp->arch);
    cJSON_AddNumberToObject(h, "vocab", hp->n_vocab);
    cJSON_AddNumberToObject(h, "context", hp->n_ctx);
    cJSON_AddNumberToObject(h, "embedding", hp->n_embd);
    cJSON_AddNumberToObject(h, "blocks", hp->n_layer);
    cJSON_AddNumberToObject(h, "ffn", hp->n_ff);
    cJSON_AddNumberToObject(h, "heads", hp->n_head);
    cJSON_AddNumberToObject(h, "kv_heads", hp->n_head_kv);
    cJSON_AddNumberToObject(h, "head_dim", hp->head_dim);
    cJSON_AddNumberToObject(h, "rope_base", hp->rope_base);
    cJSON_AddNumberToObject(h, "eps", hp->eps);
    cJSON_AddStringToObject(h, "ffn_activation", hp->act == TC_ACT_RELU2 ? "relu2" : "silu");
    return h;
}

void tc_tensor_type_counts(cJSON *types, const tc_gguf *g)
{
    for (size_t i = 0; i < g->n_tensors; i++) {
        const char *tn = tc_type_name(g->tensors[i].type);
        cJSON *c = cJSON_GetObjectItemCaseSensitive(types, tn);
        if (c) cJSON_SetNumberValue(c, c->valuedouble + 1);
        else cJSON_AddNumberToObject(types, tn, 1);
    }
}

tc_status tc_receipt_add_model(cJSON *root, const tc_model *m, const char *path, tc_err *err)
{
    char sha[TC_SHA256_HEX];
    tc_status s = tc_sha256_file(path, sha, err);
    if (s) return s;
    const tc_hparams *hp = &m->hp;
    cJSON *o = cJSON_AddObjectToObject(root, "model");
    const char *base = strrchr(path, '/');
    cJSON_AddStringToObject(o, "file", base ? base + 1 : path);
    cJSON_AddNumberToObject(o, "size", (double)m->gguf->size);
    cJSON_AddStringToObject(o, "sha256", sha);
    cJSON_AddStringToObject(o, "architecture", hp->arch);
    cJSON_AddItemToObject(o, "hparams", tc_hparams_json(hp, false));
    tc_tensor_type_counts(cJSON_AddObjectToObject(o, "tensor_types"), m->gguf);
    return TC_OK;
}

/* ---- files ---- */

tc_status tc_receipt_write(const cJSON *root, const char *path, tc_err *err)
{
    char *txt = tc_receipt_text(root);
    if (!txt) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    tc_status s = tc_write_file_atomic(path, txt, strlen(txt), err);
    free(txt);
    return s;
}

tc_status tc_receipt_load(const char *path, cJSON **out, tc_err *err)
{
    cJSON *root;
    *out = NULL;
    tc_status s = tc_json_load(path, (size_t)1 << 30, "a JSON receipt", &root, err);
    if (s) return s;
    const char *schema = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "schema"));
    if (!schema || strcmp(schema, TC_RECEIPT_SCHEMA) != 0) {
        s = tc_fail(err, TC_E_FORMAT, "%s: schema: expected \"%s\", found %s%s%s", path, TC_RECEIPT_SCHEMA,
                    schema ? "\"" : "", schema ? schema : "none", schema ? "\"" : "");
        cJSON_Delete(root);   /* schema points into root */
        return s;
    }
    *out = root;
    return TC_OK;
}
