#!/usr/bin/env bats
# Secrets over HTTPS: the proxy terminates TLS for the hosts a secret names (with the
# sandbox's own CA, which the sandbox's trust store carries) and leaves every other
# TLS connection an end-to-end tunnel. Against the fake internet of egress-world.bash,
# with a test CA of its own for the world's HTTPS server. Needs the real runtime.

load helpers
load egress-world

# tls_world: a test CA and a server certificate it signs for www.test, other.test and
# plain.test; an HTTPS server on 198.51.100.2 ports 8443 and 443 (in place of the
# world's own) that notes each request's path and headers in $TEST_TMP/seen; a
# rootfs whose /etc/ssl/certs/ca-certificates.crt is the test CA (the "image's"
# trust store); the host's curl and openssl as /input ($TEST_TMP/tools).
tls_world() {
	local t="$TEST_TMP"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$t/tlsca.key" -out "$t/tlsca.pem" \
		-subj "/CN=safehouse test CA tls" -days 1 >/dev/null 2>&1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$t/srv.key" -out "$t/srv.csr" -subj /CN=www.test >/dev/null 2>&1
	printf 'subjectAltName=DNS:www.test,DNS:other.test,DNS:plain.test\n' >"$t/srv.ext"
	openssl x509 -req -in "$t/srv.csr" -CA "$t/tlsca.pem" -CAkey "$t/tlsca.key" -CAcreateserial -days 1 \
		-extfile "$t/srv.ext" -out "$t/srv.pem" >/dev/null 2>&1
	cat >"$t/seen.py" <<-'PY'
		import http.server, ssl, sys
		class H(http.server.BaseHTTPRequestHandler):
		    def do_GET(self):
		        with open(sys.argv[1], "a") as f:
		            f.write(self.path + " | " + " | ".join("%s: %s" % kv for kv in self.headers.items()) + "\n")
		        body = b"ok\n"
		        self.send_response(200)
		        self.send_header("Content-Length", str(len(body)))
		        self.end_headers()
		        self.wfile.write(body)
		    def log_message(self, *a):
		        pass
		s = http.server.ThreadingHTTPServer(("198.51.100.2", int(sys.argv[2])), H)
		c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(sys.argv[3], sys.argv[4])
		s.socket = c.wrap_socket(s.socket, server_side=True)
		s.serve_forever()
	PY
	kill "$(cat "$t/https.pid")"
	ip netns exec "$W" python3 "$t/seen.py" "$t/seen" 8443 "$t/srv.pem" "$t/srv.key" >/dev/null 2>&1 &
	echo $! >"$t/echo.pid"
	local i
	for i in $(seq 50); do
		ip netns exec "$W" python3 "$t/seen.py" "$t/seen" 443 "$t/srv.pem" "$t/srv.key" >/dev/null 2>&1 &
		echo $! >"$t/echo2.pid"
		sleep 0.2
		kill -0 "$(cat "$t/echo2.pid")" 2>/dev/null && break
	done
	echo '198.51.100.2 plain.test' >>"$t/hosts"
	for i in $(seq 50); do
		curl -s -o /dev/null --cacert "$t/tlsca.pem" --resolve www.test:8443:198.51.100.2 https://www.test:8443/ &&
			curl -s -o /dev/null --cacert "$t/tlsca.pem" --resolve www.test:443:198.51.100.2 https://www.test/ && break
		sleep 0.1
	done
	: >"$t/seen"
	TLS_ROOTFS="$t/rootfs"
	cp -a "$ROOTFS" "$TLS_ROOTFS"
	mkdir -p "$TLS_ROOTFS/etc/ssl/certs"
	cp "$t/tlsca.pem" "$TLS_ROOTFS/etc/ssl/certs/ca-certificates.crt"
	tools
	cp "$t/tlsca.pem" "$t/tools/tlsca.pem"
	chmod a+r "$t/tools/tlsca.pem"
}

# tls_agent ARGS... -- CMD...: `agent run` of the TLS policy on the TLS rootfs, with the tools.
tls_agent() {
	"$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$POLICY" \
		--rootfs "$TLS_ROOTFS" --input "$TEST_TMP/tools" "$@"
}

@test "secrets over HTTPS: the placeholder is replaced for the secret's host (proxy, SOCKS5 and capture) and refused for another; a host with no secret stays a tunnel; nothing holds a value or the CA's key" {
	tls_world
	local key="k3y-$$-$RANDOM-tls" token="t0ken-$$-$RANDOM-tls" log="$TEST_TMP/tls.audit.jsonl"
	printf '%s\n' "$token" >"$TEST_TMP/token"
	chmod 0600 "$TEST_TMP/token"
	printf '    - www.test:8443\n    - other.test:8443\n    - plain.test:8443\n' >>"$POLICY"
	printf '  upstreamCA: %s\n' "$TEST_TMP/tlsca.pem" >>"$POLICY"
	cat >>"$POLICY" <<-EOF2
		audit: $log
		secrets:
		  - name: API_KEY
		    env: TLS_TEST_KEY
		    hosts: [www.test]
		  - name: TOKEN
		    file: $TEST_TMP/token
		    hosts: [other.test]
		    header: "X-Token: tok {}"
	EOF2
	export TLS_TEST_KEY="$key"
	local before
	before="$(sha256sum "$TLS_ROOTFS/etc/ssl/certs/ca-certificates.crt")"
	run tls_agent --id "tls-$$-run" --summary json -- sh -c '
		echo "vars: $SSL_CERT_FILE $REQUESTS_CA_BUNDLE $NODE_EXTRA_CA_CERTS"
		echo "bundle certs: $(grep -c "BEGIN CERTIFICATE" /etc/ssl/certs/ca-certificates.crt) $(grep -c "BEGIN CERTIFICATE" /etc/safehouse-ca-bundle.pem)"
		grep -rl "PRIVATE"" KEY" /etc /proc/self/environ 2>/dev/null && echo "a key inside"
		/input/bin/curl -sS --max-time 10 -H "Authorization: Bearer $API_KEY" https://www.test:8443/a; echo "a=$?"
		/input/bin/curl -sS --max-time 10 -H "Authorization: Bearer $API_KEY" https://other.test:8443/b; echo "b=$?"
		/input/bin/curl -sS --max-time 10 https://other.test:8443/c; echo "c=$?"
		/input/bin/curl -sS --max-time 10 -H "Authorization: Bearer $API_KEY" https://plain.test:8443/d; echo "d=$?"
		https_proxy= HTTPS_PROXY= /input/bin/curl -sS --max-time 10 -H "Authorization: Bearer $API_KEY" https://www.test/e; echo "e=$?"
		https_proxy= HTTPS_PROXY= ALL_PROXY= all_proxy= /input/bin/curl -sS --max-time 10 --resolve www.test:443:198.51.100.2 -H "Authorization: Bearer $API_KEY" https://www.test/g; echo "g=$?"
		for h in www.test plain.test; do
			echo | /input/bin/openssl s_client -proxy "${HTTPS_PROXY#http://}" -connect $h:8443 -servername $h 2>/dev/null | grep -m1 "i:" | sed "s/^/$h issuer /"
		done'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"vars: /etc/safehouse-ca-bundle.pem /etc/safehouse-ca-bundle.pem /etc/safehouse-ca-bundle.pem"* ]]
	# The image's bundle plus the sandbox's CA, in the common path and in the variables' bundle.
	[[ "$output" == *"bundle certs: 2 2"* ]]
	[[ "$output" != *"a key inside"* ]]
	[[ "$output" == *"a=0"* && "$output" == *"c=0"* && "$output" == *"d=0"* && "$output" == *"e=0"* && "$output" == *"g=0"* ]]
	# other.test is terminated (TOKEN's host): the API_KEY placeholder bound there is refused.
	[[ "$output" == *"403 safehouse: the request carries secret API_KEY to other.test"* || "$output" == *"the request carries secret API_KEY to other.test, which is not one of its hosts (www.test)"* ]]
	# The secret's host shows the sandbox's CA; a host with no secret its own certificate.
	[[ "$output" == *"www.test issuer"*"safehouse sandbox egress CA"* ]]
	[[ "$output" == *"plain.test issuer"*"safehouse test CA tls"* ]]
	[[ "$output" != *"$key"* && "$output" != *"$token"* ]]
	cat "$TEST_TMP/seen"
	grep '^/a ' "$TEST_TMP/seen" | grep -F "Authorization: Bearer $key" | grep -q 'Host: www.test'
	grep '^/e ' "$TEST_TMP/seen" | grep -qF "Authorization: Bearer $key"
	grep '^/g ' "$TEST_TMP/seen" | grep -qF "Authorization: Bearer $key"
	! grep -q '^/b ' "$TEST_TMP/seen" || false
	grep '^/c ' "$TEST_TMP/seen" | grep -qF "X-Token: tok $token"
	# Through the tunnel the proxy cannot see the placeholder: it arrives as it was sent.
	grep '^/d ' "$TEST_TMP/seen" | grep -q 'Authorization: Bearer safehouse-secret-[0-9a-f]\{32\}'
	! grep '^/d ' "$TEST_TMP/seen" | grep -q 'X-Token' || false
	jq -c 'select(.kind == "egress") | .details.decision' "$log"
	jq -e -s 'map(select(.kind == "egress" and .details.decision.host == "www.test" and .details.decision.port == 8443 and .details.decision.tls == "terminated" and .details.decision.secrets == ["API_KEY"] and .details.decision.decision == "allowed")) | length == 1' "$log"
	# SOCKS5 (ALL_PROXY) and transparent capture (no proxy variable) alike, by the SNI on port 443.
	jq -e -s 'map(select(.kind == "egress" and .details.decision.method == "SOCKS5" and .details.decision.host == "www.test" and .details.decision.port == 443 and .details.decision.tls == "terminated" and .details.decision.secrets == ["API_KEY"])) | length == 1' "$log"
	jq -e -s 'map(select(.kind == "egress" and .details.decision.method == "TCP" and .details.decision.host == "www.test" and .details.decision.port == 443 and .details.decision.tls == "terminated" and .details.decision.secrets == ["API_KEY"])) | length == 1' "$log"
	jq -e -s 'map(select(.kind == "egress" and .details.decision.host == "other.test" and .details.decision.decision == "denied" and .details.decision.reason == "the request carries secret API_KEY to other.test, which is not one of its hosts (www.test)")) | length == 1' "$log"
	jq -e -s 'map(select(.kind == "egress" and .details.decision.host == "plain.test" and .details.decision.tls == null and .details.decision.decision == "allowed")) | length >= 1' "$log"
	# No value, and no CA key, in the log, the summary, or anything under the root.
	grep -rlF --exclude-dir=input-zone -e "$key" -e "$token" -e "PRIVATE KEY" "$log" "$ROOT" || true
	! grep -rqF --exclude-dir=input-zone -e "$key" -e "$token" -e "PRIVATE KEY" "$log" "$ROOT" || false
	[[ "$output" != *"PRIVATE KEY"* ]]
	# The image's own trust store is as it was.
	[ "$(sha256sum "$TLS_ROOTFS/etc/ssl/certs/ca-certificates.crt")" = "$before" ]
}

@test "secrets over HTTPS: a server whose certificate the host's trust store does not vouch for is refused with 502 (network.upstreamCA is what adds its CA); config.json and the state directory hold no key" {
	tls_world
	local key="k3y-$$-$RANDOM-tls"
	printf '    - www.test:8443\n' >>"$POLICY"
	cat >>"$POLICY" <<-'EOF2'
		secrets:
		  - name: API_KEY
		    env: TLS_TEST_KEY
		    hosts: [www.test]
	EOF2
	export TLS_TEST_KEY="$key"
	local id="tls-$$-live"
	tls_agent --id "$id" --summary none -- sleep 60 &
	local agentpid=$! i pid=""
	for i in $(seq 100); do
		pid="$("$RUNTIME" --root "$ROOT" state "$id" 2>/dev/null | jq -r 'select(.status == "running") | .pid // empty')"
		[ -n "$pid" ] && [ "$pid" != 0 ] && break
		sleep 0.1
	done
	[ -n "$pid" ]
	run "$RUNTIME" --root "$ROOT" exec "$id" sh -c '/input/bin/curl -sS --max-time 10 -H "Authorization: Bearer $API_KEY" https://www.test:8443/f; echo "f=$?"'
	echo "$output"
	[[ "$output" == *"safehouse egress: TLS to www.test port 8443: the handshake failed: CERTIFICATE_VERIFY_FAILED"* ]]
	! grep -q '^/f ' "$TEST_TMP/seen" || false
	# The running sandbox's config.json names the bundle, not the CA's key; the state
	# directory holds neither key nor value.
	grep -q 'SSL_CERT_FILE=/etc/safehouse-ca-bundle.pem' "/run/safehouse-agent/$id/config.json"
	grep -rlF --exclude-dir=input-zone -e "$key" -e "PRIVATE KEY" "$ROOT" "/run/safehouse-agent/$id" || true
	! grep -rqF --exclude-dir=input-zone -e "$key" -e "PRIVATE KEY" "$ROOT" "/run/safehouse-agent/$id" || false
	! tr '\0' '\n' <"/proc/$pid/environ" | grep -qF "$key" || false
	"$RUNTIME" --root "$ROOT" kill "$id" KILL || true
	wait "$agentpid" || true
}

@test "secrets over HTTPS: network.upstreamCA must be an absolute path, and a missing one fails create naming the field" {
	local bad="$TEST_TMP/bad.yaml"
	printf 'network:\n  allow: [www.test]\n  upstreamCA: relative.pem\n' >"$bad"
	run "$RUNTIME" --root "$ROOT" agent run --policy "$bad" --rootfs "$ROOTFS" -- true
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"network.upstreamCA"* ]]
	printf 'network:\n  allow: [www.test]\n  upstreamCA: %s/none.pem\nsecrets:\n  - name: K\n    env: TLS_TEST_KEY\n    hosts: [www.test]\n' "$TEST_TMP" >"$bad"
	TLS_TEST_KEY=x run "$RUNTIME" --root "$ROOT" agent run --policy "$bad" --rootfs "$ROOTFS" -- true
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"network.upstreamCA: $TEST_TMP/none.pem: no such file or directory"* ]]
	[ -z "$("$RUNTIME" --root "$ROOT" list -q)" ]
}
