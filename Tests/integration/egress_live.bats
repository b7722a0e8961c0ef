#!/usr/bin/env bats
# A running sandbox's allowlist, changed through its warden's control channel:
# `safehouse agent allow|deny|rules` against the fake internet of egress-world.bash.
# Needs the real runtime.

load helpers
load egress-world

# live VERB ID ARGS...: `agent VERB` under this test's root.
live() {
	"$RUNTIME" --root "$ROOT" agent "$@"
}

@test "live allowlist: agent allow opens a refused host, agent deny closes it; a connection already made keeps its verdict; agent rules and the audit log say who asked" {
	local log="$TEST_TMP/live.audit.jsonl" id="live-$$-egress2"
	printf 'audit: %s\n' "$log" >>"$POLICY"
	local pid agentpid
	sandbox "$id"
	run inside curl -s --max-time 10 -x "http://$PROXY_ADDR:3128" http://other.test/hello.txt
	echo "$output"
	[[ "$output" == *"other.test matches no rule of network.allow"* ]]

	run live allow "$id" other.test
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "added allow other.test" ]
	run inside curl -s --max-time 10 -x "http://$PROXY_ADDR:3128" http://other.test/hello.txt
	[ "$output" = "hello from the world" ]

	# A tunnel to www.test admitted before www.test's rule goes: it keeps its verdict
	# (TLS and a request after the deny), while a new connection is refused.
	rm -f "$TEST_TMP/ready" "$TEST_TMP/go"
	inside python3 - "$PROXY_ADDR" "$TEST_TMP" "$CERT" >"$TEST_TMP/tunnel.out" 2>&1 <<-'PY' &
		import os, socket, ssl, sys, time
		proxy, tmp, cert = sys.argv[1:4]
		s = socket.create_connection((proxy, 3128), timeout=20)
		s.sendall(b"CONNECT www.test:443 HTTP/1.1\r\n\r\n")
		head = s.recv(4096)
		assert b" 200 " in head, head
		open(tmp + "/ready", "w").close()
		while not os.path.exists(tmp + "/go"):
		    time.sleep(0.05)
		t = ssl.create_default_context(cafile=cert).wrap_socket(s, server_hostname="www.test")
		t.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n")
		body = b""
		while True:
		    chunk = t.recv(4096)
		    if not chunk:
		        break
		    body += chunk
		print(body.decode().split("\r\n\r\n", 1)[1], end="")
	PY
	local tunnel=$! n=100
	until [ -e "$TEST_TMP/ready" ] || [ "$n" -eq 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ -e "$TEST_TMP/ready" ]
	run live deny "$id" www.test
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "removed allow www.test" ]
	run inside curl -s --max-time 10 --cacert "$CERT" -x "http://$PROXY_ADDR:3128" https://www.test/hello.txt
	[ "$status" -ne 0 ]
	run inside curl -s --max-time 10 -x "http://$PROXY_ADDR:3128" http://www.test/hello.txt
	[[ "$output" == *"www.test matches no rule of network.allow"* ]]
	touch "$TEST_TMP/go"
	wait "$tunnel"
	cat "$TEST_TMP/tunnel.out"
	[ "$(cat "$TEST_TMP/tunnel.out")" = "hello from the world" ]

	run live rules "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "allow www6.test (policy)" ]
	[[ "${lines[-1]}" == "allow other.test (uid 0 pid "*": "*"agent allow $id other.test)" ]]
	[[ "$output" != *"allow www.test "* ]]

	# The protocol itself, as a live view would speak it: one JSON line each way.
	local ask_socket='import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for line in sys.argv[2:]:
    f.write(line.encode() + b"\n"); f.flush()
    sys.stdout.write(f.readline().decode())'
	run python3 -c "$ask_socket" "$ROOT/$id/egress.sock" '{"op":"stats"}' '{"op":"grant"}' '{"op":"rules"}'
	echo "$output"
	jq -e '.ok and .allowed == 2 and .denied == 3 and .failed == 0 and .bytesUp > 0 and .bytesDown > 0 and .connections == 0' <<<"${lines[0]}"
	[ "${lines[1]}" = '{"ok":false,"error":"op: \"grant\" is not one of allow, deny, rules, stats"}' ]
	jq -e '.ok and (.rules | map(.rule) | index("other.test")) != null and .rules[0].source == "policy"' <<<"${lines[2]}"

	# The decisions and the changes, in order, with who asked.
	local n=50
	until [ "$(jq -s 'map(select(.kind == "egress-rules")) | length' "$log" 2>/dev/null)" = 2 ] || [ "$n" -eq 0 ]; do sleep 0.1; n=$((n - 1)); done
	jq -c 'select(.kind == "egress-rules") | .details' "$log"
	jq -e -s 'map(select(.kind == "egress-rules")) | .[0].details | .op == "allow" and .changes == ["added allow other.test"] and .by.uid == 0 and .by.pid > 0 and (.by.command | test("agent allow '"$id"' other.test$"))' "$log"
	jq -e -s 'map(select(.kind == "egress-rules")) | .[1].details | .op == "deny" and .changes == ["removed allow www.test"] and (.by.command | test("agent deny"))' "$log"
	jq -e -s '[.[] | select(.kind == "egress" or .kind == "egress-rules") | if .kind == "egress" then .details.decision.decision + " " + .details.decision.host else .details.op end] | index(["denied other.test", "allow", "allowed other.test"]) != null' "$log"
	end_sandbox "$id"
	"$RUNTIME" audit verify "$log"
}

@test "live allowlist: deny of a host no rule equals refuses it under an allowed wildcard; allow takes the refusal back" {
	echo '198.51.100.2 a.pkg.test evil.pkg.test' >>"$TEST_TMP/hosts"
	echo '    - "*.pkg.test"' >>"$POLICY"
	local id="live-$$-wild" pid agentpid
	sandbox "$id"
	run inside curl -s --max-time 10 -x "http://$PROXY_ADDR:3128" http://evil.pkg.test/hello.txt
	[ "$output" = "hello from the world" ]
	run live deny "$id" evil.pkg.test
	[ "$output" = "added deny evil.pkg.test" ]
	run inside curl -s --max-time 10 -x "http://$PROXY_ADDR:3128" http://evil.pkg.test/hello.txt
	echo "$output"
	[[ "$output" == *'evil.pkg.test port 80 is refused by rule "deny evil.pkg.test"'* ]]
	run inside curl -s --max-time 10 -x "http://$PROXY_ADDR:3128" http://a.pkg.test/hello.txt
	[ "$output" = "hello from the world" ]
	run live rules "$id"
	[[ "${lines[-1]}" == "deny evil.pkg.test (uid 0 pid "* ]]
	run live allow "$id" evil.pkg.test
	echo "$output"
	[ "${lines[0]}" = "removed deny evil.pkg.test" ]
	[ "${lines[1]}" = "added allow evil.pkg.test" ]
	run inside curl -s --max-time 10 -x "http://$PROXY_ADDR:3128" http://evil.pkg.test/hello.txt
	[ "$output" = "hello from the world" ]
	# Transparent capture is judged by the same rules: nc without a proxy.
	run live deny "$id" a.pkg.test
	run inside sh -c "printf 'GET /hello.txt HTTP/1.0\r\nHost: a.pkg.test\r\n\r\n' | timeout 5 $BB nc 198.51.100.2 80"
	[[ "$output" != *"hello from the world"* ]]
	jq -e -s 'map(select(.method == "TCP" and .host == "a.pkg.test" and .decision == "denied" and (.reason | contains("refused by rule \"deny a.pkg.test\"")))) | length == 1' "$ROOT/$id/egress.jsonl"
	end_sandbox "$id"
}

@test "live allowlist: one-line errors for an unknown id, a sandbox without egress, a malformed rule; the control socket is root's alone" {
	run live allow "nosuch-$$" www.test
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "safehouse: agent allow: container \"nosuch-$$\" does not exist" ]
	# Natively, an id long enough that the control socket's path is past what a
	# socket address holds (107 bytes): the warden and the CLI reach it through the
	# directory. (runsc cannot make its own control socket for such an id.)
	local id="live-$$-errors" pid agentpid
	[ "${SAFEHOUSE_BACKEND:-native}" = native ] && id="$id-$(printf 'x%.0s' $(seq 100))"
	sandbox "$id"
	[ "${SAFEHOUSE_BACKEND:-native}" != native ] || [ "$(printf '%s' "$ROOT/$id/egress.sock" | wc -c)" -gt 108 ]
	run live allow "$id" other.test
	[ "$output" = "added allow other.test" ]
	run live allow "$id" 'bad host'
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "safehouse: agent allow: rule \"bad host\": not a host name (letters, digits, '-', '.'; a wildcard only as a leading \"*.\")" ]
	run live deny "$id" www.test:99999
	[ "$status" -eq 1 ]
	[[ "$output" == 'safehouse: agent deny: rule "www.test:99999": bad port "99999"'* ]]
	run live allow "$id"
	[ "$status" -eq 1 ]
	[ "$output" = "safehouse: agent allow: name at least one rule after the id" ]
	# Nothing changed.
	run live rules "$id"
	[[ "$output" != *"bad"* ]]
	[ "$(stat -c '%a %U' "$ROOT/$id/egress.sock")" = "600 root" ]
	# Not from inside: the sandbox's mounts do not hold the state directory.
	run "$RUNTIME" --root "$ROOT" exec "$id" /bin/busybox test -e "$ROOT/$id/egress.sock"
	[ "$status" -eq 1 ]
	end_sandbox "$id"
	# A sandbox whose policy allows nothing has no allowlist to change.
	"$RUNTIME" --root "$ROOT" agent run --id "$id-none" --rootfs "$ROOTFS" --summary none -- sleep 60 &
	agentpid=$!
	wait_status "$id-none" running
	run live rules "$id-none"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "safehouse: agent rules: sandbox \"$id-none\" has no egress (its policy's network.allow is empty): there is no allowlist to change" ]
	end_sandbox "$id-none"
}

# decider_policy TARGET: the egress policy with network.decider TARGET, a 1 s deadline,
# and names for the decider's cases in the hosts mapping.
decider_policy() {
	echo '198.51.100.2 yes.test no.test slow.test crash.test' >>"$TEST_TMP/hosts"
	printf '  decider: "%s"\n  deciderTimeout: 1s\n' "$1" >>"$POLICY"
}

# proxied ID HOST: curl http://HOST/hello.txt through the proxy, from sandbox ID's network.
proxied() {
	inside curl -s --max-time 10 -x "http://$PROXY_ADDR:3128" "http://$1/hello.txt"
}

@test "decider (exec): asked about a host no rule covers; yes, no, a timeout and a crash; answers remembered; the decision and the reason in egress.jsonl, the audit log and the summary" {
	cat >"$TEST_TMP/decider.sh" <<-EOF2
		#!/bin/sh
		echo "\$1 \$2" >>"$TEST_TMP/asked"
		case "\$1" in
		yes.test) echo "allow the list says yes" ;;
		slow.test) sleep 5; echo allow ;;
		crash.test) kill -SEGV \$\$ ;;
		*) echo "deny not on the list" ;;
		esac
	EOF2
	chmod 0755 "$TEST_TMP/decider.sh"
	decider_policy "exec:$TEST_TMP/decider.sh"
	local log="$TEST_TMP/decider.audit.jsonl" id="decider-$$-exec" pid agentpid
	printf 'audit: %s\n' "$log" >>"$POLICY"
	sandbox "$id"
	run proxied yes.test
	[ "$output" = "hello from the world" ]
	run proxied yes.test
	[ "$output" = "hello from the world" ]
	run proxied no.test
	echo "$output"
	[[ "$output" == *"no.test port 80 was refused by the decider: not on the list"* ]]
	local t0=$SECONDS
	run proxied slow.test
	echo "$output"
	[[ "$output" == *"slow.test port 80 matches no rule and the decider did not answer: the decider gave no answer within 1s"* ]]
	[ $((SECONDS - t0)) -lt 4 ]
	run proxied crash.test
	echo "$output"
	[[ "$output" == *"crash.test port 80 matches no rule and the decider did not answer: decider $TEST_TMP/decider.sh was killed by signal 11"* ]]
	# A host some rule covers is not asked about (www.test port 22: its rule's ports).
	run inside curl -s --max-time 10 -x "http://$PROXY_ADDR:3128" http://www.test:22/
	[[ "$output" == *'rule "www.test" allows ports 80,443'* ]]
	# SOCKS5 asks too (the answer for yes.test:80 is remembered: not asked again).
	run inside curl -s --max-time 10 --socks5-hostname "$PROXY_ADDR:1080" http://yes.test/hello.txt
	[ "$output" = "hello from the world" ]
	cat "$TEST_TMP/asked"
	[ "$(grep -c '^yes.test 80$' "$TEST_TMP/asked")" = 1 ]
	[ "$(grep -c '^no.test 80$' "$TEST_TMP/asked")" = 1 ]
	! grep -q www.test "$TEST_TMP/asked"
	local audit="$ROOT/$id/egress.jsonl"
	jq -e -s 'map(select(.host == "yes.test" and .decision == "allowed" and .decider == "allow" and .rule == "decider" and .reason == "allowed by the decider: the list says yes")) | length == 3' "$audit"
	jq -e -s 'map(select(.host == "no.test" and .decision == "denied" and .decider == "deny")) | length == 1' "$audit"
	jq -e -s 'map(select(.decider == "error")) | length == 2' "$audit"
	# A failure is not remembered: asked again.
	run proxied slow.test
	[ "$(grep -c '^slow.test 80$' "$TEST_TMP/asked")" = 2 ]
	end_sandbox "$id"
	jq -e -s 'map(select(.kind == "egress" and .details.decision.decider == "deny" and .details.decision.reason == "no.test port 80 was refused by the decider: not on the list")) | length == 1' "$log"
	# agent run's summary names what the decider let through and what it refused.
	run agent --summary text -- sh -c 'wget -q -O /dev/null http://yes.test/hello.txt; wget -q -O /dev/null http://no.test/hello.txt; true'
	echo "$output"
	[[ "$output" == *"safehouse:   yes.test:80: allowed by the decider: the list says yes"* ]]
	[[ "$output" == *"safehouse:   no.test:80: no.test port 80 was refused by the decider: not on the list"* ]]
}

@test "decider (DNS and transparent capture): a name lookup asks about port 0 and its yes holds for the connection; a Host on a captured connection asks; no is NXDOMAIN or a reset; the records say so" {
	cat >"$TEST_TMP/decider.sh" <<-EOF2
		#!/bin/sh
		echo "\$1 \$2" >>"$TEST_TMP/asked"
		case "\$1" in
		yes.test | sni.test) echo "allow fine by the list" ;;
		*) echo "deny not on the list" ;;
		esac
	EOF2
	chmod 0755 "$TEST_TMP/decider.sh"
	echo '198.51.100.2 sni.test fronted.test' >>"$TEST_TMP/hosts"
	decider_policy "exec:$TEST_TMP/decider.sh"
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run \
		--policy "$POLICY" --rootfs "$ROOTFS" --summary json -- \
		sh -c 'unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY
			nslookup yes.test >/dev/null; echo "dns=$?"
			timeout 10 wget -q -O- http://yes.test/hello.txt; echo "wget=$?"
			nslookup no.test >/dev/null; echo "nx=$?"
			printf "GET /hello.txt HTTP/1.0\r\nHost: sni.test\r\n\r\n" | timeout 5 nc 198.51.100.2 80 | tail -n1
			printf "GET /hello.txt HTTP/1.0\r\nHost: fronted.test\r\n\r\n" | timeout 5 nc 198.51.100.2 80; echo "fronted=$?"'
	echo "$output"
	local summary
	summary="$(echo "$stderr" | tail -n1)"
	echo "$summary" | jq -c '.egress[]'
	cat "$TEST_TMP/asked"
	[[ "$output" == *"dns=0"* ]]
	[[ "$output" == *"wget=0"* ]]
	[[ "$output" == *"nx=1"* ]]
	# wget's answer and the one for sni.test's Host; none for fronted.test.
	[ "$(echo "$output" | grep -c 'hello from the world')" = 2 ]
	# Asked once per name for the lookup (port 0), whose yes covered wget's
	# connection; the Host of a captured connection to a literal address, per port.
	[ "$(grep -c '^yes.test 0$' "$TEST_TMP/asked")" = 1 ]
	! grep -q '^yes.test 80$' "$TEST_TMP/asked"
	[ "$(grep -c '^no.test 0$' "$TEST_TMP/asked")" = 1 ]
	[ "$(grep -c '^sni.test 80$' "$TEST_TMP/asked")" = 1 ]
	[ "$(grep -c '^fronted.test 80$' "$TEST_TMP/asked")" = 1 ]
	records() { echo "$summary" | jq "[.egress[] | select($1)] | length"; }
	[ "$(records '.method == "DNS" and .host == "yes.test" and .decision == "allowed" and .decider == "allow" and .rule == "decider" and .address == "198.51.100.2"')" -ge 1 ]
	[ "$(records '.method == "DNS" and .host == "no.test" and .decision == "denied" and .decider == "deny" and .reason == "no.test was refused by the decider: not on the list"')" -ge 1 ]
	[ "$(records '.method == "TCP" and .host == "yes.test" and .decision == "allowed" and .decider == "allow" and .rule == "decider"')" = 1 ]
	[ "$(records '.method == "TCP" and .host == "sni.test" and .decision == "allowed" and .rule == "decider" and .reason == "allowed by the decider: fine by the list"')" = 1 ]
	[ "$(records '.method == "TCP" and .host == "fronted.test" and .decision == "denied" and .decider == "deny" and .reason == "fronted.test port 80 was refused by the decider: not on the list"')" = 1 ]
}

@test "decider (http): a loopback HTTP decider allows, refuses, times out; another host is refused by the policy reader" {
	local port=$((20000 + $$ % 20000))
	cat >"$TEST_TMP/decider.py" <<-'PY'
		import http.server, json, sys, time
		class H(http.server.BaseHTTPRequestHandler):
		    def do_POST(self):
		        q = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
		        with open(sys.argv[2], "a") as f:
		            f.write("%s %s %s\n" % (self.path, q["host"], q["port"]))
		        if q["host"] == "slow.test":
		            time.sleep(3)
		        answer = {"allow": q["host"] == "yes.test", "reason": "http says " + ("yes" if q["host"] == "yes.test" else "no")}
		        body = json.dumps(answer).encode()
		        self.send_response(200)
		        self.send_header("Content-Length", str(len(body)))
		        self.end_headers()
		        self.wfile.write(body)
		    def log_message(self, *a):
		        pass
		http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
	PY
	python3 "$TEST_TMP/decider.py" "$port" "$TEST_TMP/asked" &
	echo $! >"$TEST_TMP/decider.pid"
	local i
	for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
	cp "$POLICY" "$TEST_TMP/base.yaml"
	decider_policy "http://127.0.0.1:$port/decide"
	local id="decider-$$-http" pid agentpid
	sandbox "$id"
	run proxied yes.test
	[ "$output" = "hello from the world" ]
	run proxied no.test
	echo "$output"
	[[ "$output" == *"no.test port 80 was refused by the decider: http says no"* ]]
	run proxied slow.test
	echo "$output"
	[[ "$output" == *"slow.test port 80 matches no rule and the decider did not answer: the decider gave no answer within 1s"* ]]
	cat "$TEST_TMP/asked"
	grep -qx '/decide yes.test 80' "$TEST_TMP/asked"
	jq -e -s 'map(select(.host == "yes.test" and .decider == "allow" and .reason == "allowed by the decider: http says yes")) | length == 1' "$ROOT/$id/egress.jsonl"
	end_sandbox "$id"
	kill "$(cat "$TEST_TMP/decider.pid")"
	# Nothing listening: a refusal, at once.
	cp "$TEST_TMP/base.yaml" "$POLICY"
	decider_policy "http://127.0.0.1:$port/decide"
	run agent -- sh -c 'wget -q -O- http://yes.test/hello.txt; echo "rc=$?"'
	echo "$output"
	[[ "$output" == *"rc=1"* ]]
	# Only loopback: the policy reader names the field.
	cp "$TEST_TMP/base.yaml" "$POLICY"
	printf '  decider: "http://198.51.100.2:80/decide"\n' >>"$POLICY"
	run "$RUNTIME" agent spec --policy "$POLICY" --rootfs "$ROOTFS" -- true
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'network.decider: "http://198.51.100.2:80/decide": the host must be a loopback address (127.0.0.1 or [::1]): the decider runs on this host'* ]]
}

@test "secrets: the placeholder is replaced for the secret's host (in a header, or the header the policy sets) and refused for another; the value is nowhere the sandbox or its records can see" {
	# An HTTP server in the world that notes the headers it gets (and echoes none).
	cat >"$TEST_TMP/echo.py" <<-'PY'
		import http.server, sys
		class H(http.server.BaseHTTPRequestHandler):
		    def do_GET(self):
		        with open(sys.argv[1], "a") as f:
		            f.write(" | ".join("%s: %s" % kv for kv in self.headers.items()) + "\n")
		        body = b"ok\n"
		        self.send_response(200)
		        self.send_header("Content-Length", str(len(body)))
		        self.end_headers()
		        self.wfile.write(body)
		    def log_message(self, *a):
		        pass
		http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), H).serve_forever()
	PY
	ip netns exec "$W" python3 "$TEST_TMP/echo.py" "$TEST_TMP/seen" 198.51.100.2 8080 >/dev/null 2>&1 &
	echo $! >"$TEST_TMP/echo.pid"
	# The same on port 80 in place of the world's file server, for a request that
	# transparent capture takes (it reads HTTP on port 80 only).
	kill "$(cat "$TEST_TMP/http.pid")"
	local i
	for i in $(seq 50); do
		ip netns exec "$W" python3 "$TEST_TMP/echo.py" "$TEST_TMP/seen" 198.51.100.2 80 >/dev/null 2>&1 &
		echo $! >"$TEST_TMP/echo2.pid"
		sleep 0.2
		kill -0 "$(cat "$TEST_TMP/echo2.pid")" 2>/dev/null && break
	done
	echo '198.51.100.2 api.test' >>"$TEST_TMP/hosts"
	for i in $(seq 50); do curl -s -o /dev/null http://198.51.100.2:8080/ && curl -s -o /dev/null http://198.51.100.2/ && break; sleep 0.1; done
	: >"$TEST_TMP/seen"
	local key="k3y-$$-$RANDOM-egress2" token="t0ken-$$-$RANDOM-egress2"
	printf '%s\n' "$token" >"$TEST_TMP/token"
	chmod 0600 "$TEST_TMP/token"
	local log="$TEST_TMP/secrets.audit.jsonl"
	printf '    - www.test:8080\n    - other.test:8080\n    - api.test\n' >>"$POLICY"
	cat >>"$POLICY" <<-EOF2
		audit: $log
		secrets:
		  - name: API_KEY
		    env: EGRESS2_TEST_KEY
		    hosts: [www.test, api.test]
		  - name: TOKEN
		    file: $TEST_TMP/token
		    hosts: ["*.test"]
		    header: "X-Token: tok {}"
	EOF2
	# A missing value fails before anything is made, naming the secret.
	run agent --id "secrets-$$-none" -- true
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"secrets: API_KEY: the environment variable EGRESS2_TEST_KEY is not set"* ]]
	[ -z "$("$RUNTIME" --root "$ROOT" list -q)" ]

	export EGRESS2_TEST_KEY="$key"
	local id="secrets-$$-run"
	run agent --id "$id" --summary json -- sh -c '
		echo "env: $API_KEY $TOKEN"
		case "$API_KEY" in safehouse-secret-*) ;; *) echo "not a placeholder";; esac
		wget -q -O- --header "Authorization: Bearer $API_KEY" http://www.test:8080/a
		wget -q -O- --header "Authorization: Bearer $API_KEY" http://other.test:8080/b 2>&1; echo "rc=$?"
		wget -q -O- http://other.test:8080/c
		http_proxy= wget -q -O- --header "Authorization: Bearer $API_KEY" http://api.test/d
		grep -rl "$API_KEY" /proc/self/environ >/dev/null && echo placeholder-in-environ'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"env: safehouse-secret-"* ]]
	[[ "$output" != *"not a placeholder"* ]]
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *"placeholder-in-environ"* ]]
	# The agent never saw the values: not in its environment, its output, or the summary.
	[[ "$output" != *"$key"* ]]
	[[ "$output" != *"$token"* ]]
	cat "$TEST_TMP/seen"
	# www.test got the key in place of the placeholder, and the policy's header.
	grep -F "Authorization: Bearer $key" "$TEST_TMP/seen" | grep 'www.test' | grep -qF "X-Token: tok $token"
	# The same through transparent capture (no proxy: the request is taken at port 80).
	grep -F "Authorization: Bearer $key" "$TEST_TMP/seen" | grep -q 'Host: api.test'
	jq -e -s 'map(select(.kind == "egress" and .details.decision.method == "TCP" and .details.decision.host == "api.test" and .details.decision.secrets == ["API_KEY", "TOKEN"])) | length == 1' "$log"
	# other.test: the request with the placeholder never arrived; the plain one got
	# its X-Token (*.test), and nothing else of the secrets.
	[ "$(grep -c 'other.test' "$TEST_TMP/seen")" = 1 ]
	grep 'other.test' "$TEST_TMP/seen" | grep -qF "X-Token: tok $token"
	! grep 'other.test' "$TEST_TMP/seen" | grep -q "Authorization" || false
	# The refusal is on the record, naming the secret only; nothing holds a value.
	jq -e -s 'map(select(.kind == "egress" and .details.decision.host == "other.test" and .details.decision.decision == "denied" and .details.decision.reason == "the request carries secret API_KEY to other.test, which is not one of its hosts (www.test, api.test)")) | length == 1' "$log"
	jq -e -s 'map(select(.kind == "egress" and .details.decision.host == "www.test" and .details.decision.secrets == ["API_KEY", "TOKEN"])) | length == 1' "$log"
	! grep -rqF -e "$key" -e "$token" "$log" "$ROOT" || false
}

@test "secrets: a running sandbox's files, config.json and /proc hold only the placeholder; policy errors name the field" {
	local key="k3y-$$-$RANDOM-egress2"
	export EGRESS2_TEST_KEY="$key"
	cat >>"$POLICY" <<-'EOF2'
		secrets:
		  - name: API_KEY
		    env: EGRESS2_TEST_KEY
		    hosts: [www.test]
	EOF2
	local id="secrets-$$-live" pid agentpid
	sandbox "$id"
	# The init's environment, as the sandbox reads it (and, natively, as the host does).
	run "$RUNTIME" --root "$ROOT" exec "$id" /bin/busybox sh -c 'tr "\0" "\n" </proc/1/environ'
	[ "$status" -eq 0 ]
	grep -q '^API_KEY=safehouse-secret-[0-9a-f]\{32\}$' <<<"$output"
	[[ "$output" != *"$key"* ]]
	if [ "${SAFEHOUSE_BACKEND:-native}" = native ]; then
		tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^API_KEY=safehouse-secret-[0-9a-f]\{32\}$'
		! grep -qF "$key" "/proc/$pid/environ" || false
	fi
	# The spec (its env and annotations) and the state directory: placeholders only.
	grep -q 'API_KEY=safehouse-secret-' "/run/safehouse-agent/$id/config.json"
	! grep -rqF "$key" "$ROOT" "/run/safehouse-agent/$id" || false
	end_sandbox "$id"
	# Policy errors: the value never in the policy, one source, a host list.
	local bad="$TEST_TMP/bad.yaml"
	printf 'network:\n  allow: [www.test]\nsecrets:\n  - name: K\n    hosts: [www.test]\n' >"$bad"
	run "$RUNTIME" agent spec --policy "$bad" --rootfs "$ROOTFS" -- true
	[ "$status" -eq 1 ]
	[[ "$output" == *"secrets[0]: needs one of env (the caller's variable) or file (a path on the host), not neither"* ]]
	printf 'network:\n  allow: [www.test]\nsecrets:\n  - name: K\n    env: K\n    value: abc\n    hosts: [www.test]\n' >"$bad"
	run "$RUNTIME" agent spec --policy "$bad" --rootfs "$ROOTFS" -- true
	[ "$status" -eq 1 ]
	[[ "$output" == *"secrets[0].value: unknown key"* || "$output" == *"secrets[0]: "*"unknown key"* ]]
	[[ "$output" != *"abc"* ]]
	printf 'secrets:\n  - name: K\n    env: K\n    hosts: [www.test]\n' >"$bad"
	run "$RUNTIME" agent spec --policy "$bad" --rootfs "$ROOTFS" -- true
	[ "$status" -eq 1 ]
	[[ "$output" == *"secrets: the policy has no network.allow: a secret goes out only through the egress proxy"* ]]
}
