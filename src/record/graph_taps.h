/* graph_taps.h -- which tensor of a ggml graph is which canonical tap
 * (SPEC 3.1), per architecture: bitnet-b1.58 and bitnet-25 as bitnet.cpp's
 * llama.cpp fork builds them, bitnet as mainline llama.cpp builds it.
 *
 * llama.cpp names a graph tensor "<name>-<layer>" ("Qcur-3") or "<name>"
 * for a model-wide one ("result_norm"); a later name given to the same
 * tensor replaces the earlier, so "ffn_gate_par-3" reaches the callback as
 * "ffn_out-3".  Two tensors share "Qcur-3": the projection and its RoPE,
 * told apart by the op that made them.  Nothing here calls llama.cpp:
 * tritcheck-record passes the name and the op's name (ggml_op_name).
 */
#ifndef TC_RECORD_GRAPH_TAPS_H
#define TC_RECORD_GRAPH_TAPS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/taps.h"

/* The table of an architecture (general.architecture), or NULL when the
 * recorder knows no graph of that name. */
typedef struct tc_graph_table tc_graph_table;
const tc_graph_table *tc_graph_table_for(const char *arch);

/* The canonical tap and layer (-1 for a model-wide tap) of the graph
 * tensor `name` made by op `op` ("MUL_MAT", "ROPE"); false when the
 * table maps no tap to it (an intermediate such as "kq-0" or "norm-0").
 * A per-layer graph name without a layer, or a model-wide one with one,
 * is not mapped. */
bool tc_graph_tap(const tc_graph_table *t, const char *name, const char *op, tc_tap_id *id, int *layer);

/* The graph names the table maps to tap id, for messages
 * ("\"Qcur\" (op ROPE)"), into buf[n] ("" for none). */
void tc_graph_names_of(const tc_graph_table *t, tc_tap_id id, char *buf, size_t n);

#endif
