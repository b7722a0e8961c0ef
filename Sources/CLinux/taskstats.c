// Taskstats over generic netlink: the exit records the kernel sends for every task
// that exits on a registered CPU. See CLinux.h and Sources/Warden/ExitStatusWatch.swift
// for why the warden uses this.
#define _GNU_SOURCE
#include "CLinux.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>

#define SH_NLA_DATA(na) ((void *)((char *)(na) + NLA_HDRLEN))

struct sh_genl_request {
    struct nlmsghdr n;
    struct genlmsghdr g;
    char attributes[128];
};

static int sh_genl_send(int fd, uint16_t type, uint8_t cmd, uint16_t attr, const char *text) {
    struct sh_genl_request req;
    memset(&req, 0, sizeof req);
    size_t len = strlen(text) + 1;
    if (NLA_HDRLEN + len > sizeof req.attributes) { errno = EINVAL; return -1; }
    req.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
    req.n.nlmsg_type = type;
    req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.g.cmd = cmd;
    req.g.version = 1;
    struct nlattr *na = (struct nlattr *)((char *)&req + NLMSG_ALIGN(req.n.nlmsg_len));
    na->nla_type = attr;
    na->nla_len = (uint16_t)(NLA_HDRLEN + len);
    memcpy(SH_NLA_DATA(na), text, len);
    req.n.nlmsg_len = NLMSG_ALIGN(req.n.nlmsg_len) + NLA_ALIGN(na->nla_len);
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    ssize_t n;
    do { n = sendto(fd, &req, req.n.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel); } while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

// Reads the answer to a request: the family id for CTRL_CMD_GETFAMILY (*family set),
// the ack (error 0) otherwise. -1 with errno set on an error answer.
static int sh_genl_answer(int fd, uint16_t *family) {
    char buf[8192];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                if (e->error == 0) return 0;
                errno = -e->error;
                return -1;
            }
            if (family && h->nlmsg_type == GENL_ID_CTRL) {
                char *p = (char *)NLMSG_DATA(h) + GENL_HDRLEN;
                int len = (int)h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
                while (len >= (int)NLA_HDRLEN) {
                    struct nlattr *a = (struct nlattr *)p;
                    if (a->nla_len < NLA_HDRLEN) break;
                    if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID) *family = *(uint16_t *)SH_NLA_DATA(a);
                    len -= NLA_ALIGN(a->nla_len);
                    p += NLA_ALIGN(a->nla_len);
                }
            }
        }
    }
}

int sh_taskstats_open(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (fd < 0) return -1;
    struct sockaddr_nl local = { .nl_family = AF_NETLINK };
    uint16_t family = 0;
    // Room for the exits elsewhere on the host between two drains (every CPU's exits
    // come here; ~1.3 KiB each), charged only while queued. The kernel doubles it
    // (8 MiB). FORCE needs CAP_NET_ADMIN, which registering needs too.
    int room = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof room);
    if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) goto fail;
    if (sh_genl_send(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, TASKSTATS_GENL_NAME) < 0) goto fail;
    if (sh_genl_answer(fd, &family) < 0) goto fail;
    if (family == 0) { errno = ENOENT; goto fail; }
    char cpus[32];
    long count = sysconf(_SC_NPROCESSORS_CONF);
    snprintf(cpus, sizeof cpus, "0-%ld", count > 0 ? count - 1 : 0);
    if (sh_genl_send(fd, family, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, cpus) < 0) goto fail;
    if (sh_genl_answer(fd, NULL) < 0) goto fail;
    return fd;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int sh_taskstats_drain(int fd, uint32_t pid, uint32_t *status, int *overflowed) {
    static char buf[1 << 16];
    int found = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return found;
            if (errno == ENOBUFS) { *overflowed = 1; continue; }
            return -1;
        }
        if (n == 0) return found;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) continue;
            char *p = (char *)NLMSG_DATA(h) + GENL_HDRLEN;
            int len = (int)h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
            while (len >= (int)NLA_HDRLEN) {
                struct nlattr *a = (struct nlattr *)p;
                if (a->nla_len < NLA_HDRLEN || a->nla_len > len) break;
                // One exited task: TASKSTATS_TYPE_AGGR_PID { PID, STATS }. The thread
                // group's aggregate (AGGR_TGID) carries no exit code: skipped.
                if ((a->nla_type & NLA_TYPE_MASK) == TASKSTATS_TYPE_AGGR_PID) {
                    char *q = SH_NLA_DATA(a);
                    int inner = (int)a->nla_len - NLA_HDRLEN;
                    uint32_t task = 0;
                    while (inner >= (int)NLA_HDRLEN) {
                        struct nlattr *b = (struct nlattr *)q;
                        if (b->nla_len < NLA_HDRLEN || b->nla_len > inner) break;
                        int type = b->nla_type & NLA_TYPE_MASK;
                        if (type == TASKSTATS_TYPE_PID && b->nla_len >= NLA_HDRLEN + sizeof(uint32_t)) {
                            task = *(uint32_t *)SH_NLA_DATA(b);
                        } else if (type == TASKSTATS_TYPE_STATS && task == pid && pid != 0 &&
                                   b->nla_len >= NLA_HDRLEN + offsetof(struct taskstats, ac_ppid)) {
                            // The first fields of struct taskstats keep their places in
                            // every version: ac_exitcode and ac_pid are read as they are.
                            struct taskstats *s = SH_NLA_DATA(b);
                            if (s->ac_pid == pid) { *status = s->ac_exitcode; found = 1; }
                        }
                        inner -= NLA_ALIGN(b->nla_len);
                        q += NLA_ALIGN(b->nla_len);
                    }
                }
                len -= NLA_ALIGN(a->nla_len);
                p += NLA_ALIGN(a->nla_len);
            }
        }
    }
}
