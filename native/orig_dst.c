/*
 * orig_dst: reads the original destination of a connection that iptables REDIRECTed to the proxy
 * (getsockopt SO_ORIGINAL_DST for IPv4, IP6T_SO_ORIGINAL_DST for IPv6), given the socket's fd.
 * Returns { address, port, family } or null when the connection has no NAT record (ENOENT), and
 * throws with the errno name otherwise. Linux only.
 */
#include <node_api.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netfilter_ipv4.h>

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static napi_value make_result(napi_env env, const char *address, unsigned port, int family) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "address", v);
  napi_create_uint32(env, port, &v);
  napi_set_named_property(env, obj, "port", v);
  napi_create_int32(env, family, &v);
  napi_set_named_property(env, obj, "family", v);
  return obj;
}

static napi_value throw_errno(napi_env env, int err) {
  char code[32];
  snprintf(code, sizeof code, "E%d", err);
  const char *name = err == EBADF ? "EBADF" : err == ENOTSOCK ? "ENOTSOCK" : err == ENOPROTOOPT ? "ENOPROTOOPT" : code;
  napi_throw_error(env, name, strerror(err));
  return NULL;
}

static napi_value original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "EINVAL", "originalDst(fd): fd must be a non-negative integer");
    return NULL;
  }

  struct sockaddr_storage local;
  socklen_t local_len = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &local_len) != 0) return throw_errno(env, errno);

  char text[INET6_ADDRSTRLEN];
  napi_value null_value;
  napi_get_null(env, &null_value);

  /* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; their NAT record is in the IPv4 table. */
  int v4_mapped = local.ss_family == AF_INET6 &&
                  IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&local)->sin6_addr);

  if (local.ss_family == AF_INET6 && !v4_mapped) {
    struct sockaddr_in6 dst;
    socklen_t len = sizeof dst;
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst, &len) != 0) {
      if (errno == ENOENT) return null_value;
      return throw_errno(env, errno);
    }
    inet_ntop(AF_INET6, &dst.sin6_addr, text, sizeof text);
    return make_result(env, text, ntohs(dst.sin6_port), 6);
  }

  struct sockaddr_in dst;
  socklen_t len = sizeof dst;
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &len) != 0) {
    if (errno == ENOENT) return null_value;
    return throw_errno(env, errno);
  }
  inet_ntop(AF_INET, &dst.sin_addr, text, sizeof text);
  return make_result(env, text, ntohs(dst.sin_port), 4);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "originalDst", NAPI_AUTO_LENGTH, original_dst, NULL, &fn);
  napi_set_named_property(env, exports, "originalDst", fn);
  return exports;
}
