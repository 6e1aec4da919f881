/* relay/sockinfo.c — TCP facts from the kernel (see sockinfo.h). */
#include "relay/sockinfo.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "proto/status.h"

/* TCP_INFO into *ti, if the kernel's struct reaches at least `need` bytes (older kernels
 * return a shorter one without the newer fields). */
static int tcp_info(int fd, struct tcp_info *ti, size_t need)
{
    socklen_t len = sizeof *ti;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) != 0 || len < need)
        return BBT_EIO;
    return BBT_OK;
}

int bbt_sock_bytes_acked(int fd, uint64_t *out)
{
    struct tcp_info ti;
    if (tcp_info(fd, &ti, offsetof(struct tcp_info, tcpi_bytes_acked) +
                              sizeof ti.tcpi_bytes_acked) != BBT_OK)
        return BBT_EIO;
    *out = ti.tcpi_bytes_acked;
    return BBT_OK;
}

int bbt_sock_path_read(int fd, bbt_sock_path *out)
{
    struct tcp_info ti;
    if (tcp_info(fd, &ti, offsetof(struct tcp_info, tcpi_delivery_rate) +
                              sizeof ti.tcpi_delivery_rate) != BBT_OK)
        return BBT_EIO;
    *out = (bbt_sock_path){.srtt_us = ti.tcpi_rtt, .min_rtt_us = ti.tcpi_min_rtt,
                           .delivery_bps = (int64_t)ti.tcpi_delivery_rate * 8,
                           .app_limited = ti.tcpi_delivery_rate_app_limited,
                           .retrans = ti.tcpi_total_retrans,
                           .segs_out = ti.tcpi_segs_out,
                           .bytes_acked = ti.tcpi_bytes_acked,
                           .unacked = ti.tcpi_unacked};
    return BBT_OK;
}

int bbt_host_tcp_reordering(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_reordering", "r");
    int v = -1;
    if (f && fscanf(f, "%d", &v) != 1)
        v = -1;
    if (f)
        fclose(f);
    return v;
}
