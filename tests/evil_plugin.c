/* evil_plugin.c -- a shared object whose constructor runs the moment it is
 * loaded, before tritcheck can look for tritcheck_kernels(): it writes the
 * file named by TC_EVIL_MARKER.  tests/cli_hostile.sh names it in receipts
 * and asserts that the marker never appears: verify must not load what a
 * receipt names. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void evil(void)
{
    const char *marker = getenv("TC_EVIL_MARKER");
    FILE *fp = marker ? fopen(marker, "w") : NULL;
    if (fp) {
        fputs("loaded\n", fp);
        fclose(fp);
    }
}
