/* replay.h -- a recording replayed as an engine (the registry opens it as
 * "dump:DIR"; see replay.c). */
#ifndef TC_ENGINE_REPLAY_H
#define TC_ENGINE_REPLAY_H

#include "engine/engine.h"

/* Load the recording in dir (tc_dump_load) and open it as an engine on
 * model m; fault injection in o is ignored.  Returns TC_OK, TC_E_IO,
 * TC_E_FORMAT (a malformed recording, or one without tokens), TC_E_USAGE,
 * TC_E_RANGE (bad options), TC_E_NOMEM.  Running it: TC_E_USAGE when the
 * tokens differ from the recorded ones, TC_E_RANGE past its positions,
 * TC_E_FORMAT when a tap holds fewer positions. */
tc_status tc_replay_engine_open(const char *dir, const tc_model *m, const tc_engine_opts *o, tc_engine **out,
                                tc_err *err);

#endif
