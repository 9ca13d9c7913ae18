/* check_fileio.c -- whole-file reads and outputs (src/base/fileio.c): regular files only, never a wait on a FIFO, no output over an input. */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "testutil.h"

/* ---- fileio: what is read and what is written over ---- */

START_TEST(fileio_never_waits_on_a_fifo)
{
    char *p = tu_temp_path(".fifo");
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    char *buf;
    size_t n;
    tc_err err;
    void *gz;
    ck_assert_int_eq(tc_read_file(p, 100, "a test", &buf, &n, &err), TC_E_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "is a FIFO"));
    ck_assert_int_eq(tc_read_gz(p, 100, "a test", &gz, &n, NULL, &err), TC_E_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "is a FIFO"));
    unlink(p);
    ck_assert_int_eq(tc_read_file("/dev/zero", 100, "a test", &buf, &n, &err), TC_E_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "is a device"));
    ck_assert_int_eq(tc_read_file("/", 100, "a test", &buf, &n, &err), TC_E_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "is a directory"));
    free(p);
}
END_TEST

START_TEST(fileio_refuses_too_large_before_reading)
{
    char *p = tu_temp_path(".txt");
    FILE *fp = fopen(p, "w");
    fputs("0123456789", fp);
    fclose(fp);
    char *buf;
    size_t n;
    tc_err err;
    ck_assert_int_eq(tc_read_file(p, 9, "a test", &buf, &n, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "at most 9 bytes, the file has 10"));
    ck_assert_int_eq(tc_read_file(p, 10, "a test", &buf, &n, &err), TC_OK);
    ck_assert_uint_eq(n, 10);
    free(buf);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(fileio_output_is_not_an_input)
{
    char *a = tu_temp_path(".in"), *b = tu_temp_path(".out"), other[600];
    FILE *fp = fopen(a, "w");
    fputs("model", fp);
    fclose(fp);
    snprintf(other, sizeof other, "%s.hard", a);
    ck_assert_int_eq(link(a, other), 0);
    const char *inputs[] = { NULL, "-", a };
    tc_err err;
    ck_assert_int_eq(tc_check_output(b, inputs, 3, &err), TC_OK);   /* not there yet */
    ck_assert_int_eq(tc_check_output(a, inputs, 3, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "is the same file as the input"));
    ck_assert_int_eq(tc_check_output(other, inputs, 3, &err), TC_E_USAGE);   /* another name, one inode */
    fp = fopen(b, "w");
    fclose(fp);
    ck_assert_int_eq(tc_check_output(b, inputs, 3, &err), TC_OK);
    unlink(a);
    unlink(b);
    unlink(other);
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fileio");
    TCase *errors = tcase_create("errors"), *limits = tcase_create("limits");
    tcase_add_test(errors, fileio_never_waits_on_a_fifo);
    tcase_add_test(errors, fileio_output_is_not_an_input);
    tcase_add_test(limits, fileio_refuses_too_large_before_reading);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, limits);
    return tu_run(s);
}
