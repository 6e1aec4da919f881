/* tests/relay/test_sockinfo.c — relay/sockinfo.c: what the kernel says of a real loopback TCP
 * connection, BBT_EIO for a descriptor that is not one, and the host's tcp_reordering. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/status.h"
#include "relay/sockinfo.h"

/* A loopback connection: its listener *l, the connecting side *c, the accepted side *s. */
static void loopback_pair(int *l, int *c, int *s)
{
    *l = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(*l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(*l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(*l, 1), 0);
    assert_int_equal(getsockname(*l, (struct sockaddr *)&a, &al), 0);
    *c = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(*c, (struct sockaddr *)&a, sizeof a), 0);
    *s = accept(*l, NULL, NULL);
    assert_true(*s >= 0);
}

/* A connected loopback socket that has carried 4 kB: a round trip, segments out, no
 * retransmission; all of it acknowledged once the peer has read it (the path reading says so
 * too: nothing in flight); a descriptor that is no
 * socket: BBT_EIO. */
static void test_path_read_from_a_socket(void **state)
{
    (void)state;
    int l, c, s;
    loopback_pair(&l, &c, &s);
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(write(c, buf, sizeof buf), (ssize_t)sizeof buf);
    size_t got = 0;
    while (got < sizeof buf) {
        ssize_t n = read(s, buf, sizeof buf - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    /* the acknowledgement of what was read may still be on its way: wait for it (the SYN
     * counts one byte) */
    uint64_t acked = 0, all = sizeof buf + 1;
    for (int i = 0; i < 200 && acked < all; i++) {
        assert_int_equal(bbt_sock_bytes_acked(c, &acked), BBT_OK);
        if (acked < all)
            usleep(1000);
    }
    assert_int_equal(acked, all);
    bbt_sock_path p;
    assert_int_equal(bbt_sock_path_read(c, &p), BBT_OK);
    assert_true(p.min_rtt_us > 0);
    assert_true(p.srtt_us > 0);
    assert_true(p.segs_out > 0);
    assert_int_equal(p.retrans, 0);
    assert_int_equal(p.bytes_acked, all);
    assert_int_equal(p.unacked, 0);
    assert_int_equal(bbt_sock_path_read(-1, &p), BBT_EIO);
    assert_int_equal(bbt_sock_bytes_acked(-1, &acked), BBT_EIO);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(bbt_sock_path_read(fds[0], &p), BBT_EIO);
    close(fds[0]);
    close(fds[1]);
    close(s);
    close(c);
    close(l);
}

/* The host's tcp_reordering is what a connection accepted now starts with: the kernel's own
 * figure for it (TCP_INFO tcpi_reordering), on both sides of a fresh loopback connection. */
static void test_host_reordering_is_a_new_connections(void **state)
{
    (void)state;
    int r = bbt_host_tcp_reordering();
    assert_true(r >= 1);
    int l, c, s;
    loopback_pair(&l, &c, &s);
    int fds[2] = {c, s};
    for (int i = 0; i < 2; i++) {
        struct tcp_info ti;
        socklen_t len = sizeof ti;
        assert_int_equal(getsockopt(fds[i], IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
        assert_int_equal(ti.tcpi_reordering, r);
    }
    close(s);
    close(c);
    close(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_read_from_a_socket),
        cmocka_unit_test(test_host_reordering_is_a_new_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
