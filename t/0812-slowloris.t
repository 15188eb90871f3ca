#!/bin/sh
# Issue 9.12: slowloris. One address with a few hundred connections sending a byte a second stalled
# every request (only an idle timeout existed, and a byte a second is never idle). Now each request's
# whole header must arrive within --header-timeout, and one client network may hold at most
# --max-client-connections open connections (IPv6 counted per /64: t/0192-unit-connlimit.t).
. ./t/lib.sh

start_server "$TRASH/data" -- --max-connections 16 --max-client-connections 8 --header-timeout 2 \
	--timeout 30 || bail "no server"

# The attacker: 300 connections from 127.0.0.2, each sending a header a byte a second.
cat > slow.py <<'PY'
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for i in range(n):
    s = socket.socket()
    s.bind(('127.0.0.2', 0))
    s.setblocking(False)
    try:
        s.connect(('127.0.0.1', port))
    except BlockingIOError:
        pass
    socks.append(s)
open('slow.ready', 'w').write('%d\n' % len(socks))
end = time.time() + secs
msg = b'GET / HTTP/1.1\r\nHost: x\r\nX-a: '
i = 0
while time.time() < end:
    for s in socks:
        try:
            s.send(msg[i:i + 1] if i < len(msg) else b'a')
        except OSError:
            pass
    i += 1
    time.sleep(1)
PY
python3 slow.py "$PORT" 300 12 &
KW_BG_PIDS="$KW_BG_PIDS $!"
wait_for test -s slow.ready; ok $? "300 slow connections from 127.0.0.2"
t0=$(date +%s%N)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/server-key")
t1=$(date +%s%N)
is "$code" 200 "meanwhile a lookup from 127.0.0.1 is answered"
test $(( (t1 - t0) / 1000000 )) -lt 3000; ok $? "within 3 s ($(( (t1 - t0) / 1000000 )) ms)"

# A header trickling in a byte every half second is cut at --header-timeout, though never idle.
cat > trickle.py <<'PY'
import socket, sys, time
s = socket.socket()
s.bind(('127.0.0.3', 0))
s.connect(('127.0.0.1', int(sys.argv[1])))
s.settimeout(0.5)
t0 = time.time()
msg = b'GET /server-key HTTP/1.1\r\nHost: x\r\n' + b'X-a: ' + b'a' * 100
for c in msg:
    if time.time() - t0 > 8:
        break
    try:
        s.send(bytes([c]))
        if s.recv(1) == b'':
            break
    except socket.timeout:
        continue
    except OSError:
        break
print('%.1f' % (time.time() - t0))
PY
took=$(python3 trickle.py "$PORT")
test "${took%.*}" -lt 6; ok $? "a trickling header is cut after ${took} s (--header-timeout 2)"
like "$(cat server.log)" "request header not complete within 2 s; connection closed" "with a log line"

# A keep-alive connection idle between requests is not cut by the header deadline, and a request
# whose header arrives at once is served however long its client then waits.
cat > keepalive.py <<'PY'
import http.client, sys, time
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10, source_address=('127.0.0.4', 0))
c.request('GET', '/server-key'); r1 = c.getresponse(); r1.read()
time.sleep(3)
c.request('GET', '/server-key'); r2 = c.getresponse(); r2.read()
print(r1.status, r2.status)
PY
is "$(python3 keepalive.py "$PORT")" "200 200" "a keep-alive connection idle for 3 s between requests still works"
# A closed connection gives its place back at once: 40 requests in a row from one address, each on a
# new connection, are all answered (the cap is 8).
n=0
for i in $(seq 40); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.5 "$URL/server-key")" = 200 ] && n=$((n + 1))
done
is "$n" 40 "40 connections one after the other from one address: all answered"
done_testing
