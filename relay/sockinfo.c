/* relay/sockinfo.c — TCP facts from the kernel (see sockinfo.h). */
#include "relay/sockinfo.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include "proto/status.h"

int bbt_sock_bytes_acked(int fd, uint64_t *out)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked)
        return BBT_EIO;
    *out = ti.tcpi_bytes_acked;
    return BBT_OK;
}

int bbt_sock_rtt(int fd, int64_t *srtt_us, int64_t *min_rtt_us)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_min_rtt) + sizeof ti.tcpi_min_rtt)
        return BBT_EIO;
    *srtt_us = ti.tcpi_rtt;
    *min_rtt_us = ti.tcpi_min_rtt;
    return BBT_OK;
}
