#!/bin/sh
# contrib/: the systemd unit verifies and scores well in systemd-analyze security; the logrotate file
# parses; the nginx site passes nginx -t (t/1470 runs it for real).
. ./t/lib.sh

UNIT=$KW_ROOT/contrib/systemd/keyward.service
# the unit as installed, its ExecStart pointed at this build, the man page where man finds it
mkdir -p man/man8 unit
cp "$KW_ROOT/doc/keyward.8" man/man8/
sed "s|/usr/local/bin/keyward|$KEYWARD|" "$UNIT" > unit/keyward.service
MANPATH=$TRASH/man systemd-analyze verify unit/keyward.service > verify.out 2>&1
ok $? "systemd-analyze verify: clean" || sed 's/^/#   /' verify.out
is "$(grep -cv '^$' verify.out)" 0 "systemd-analyze verify: not one complaint"
systemd-analyze security --offline=yes unit/keyward.service > security.out 2>&1
score=$(awk '/Overall exposure level/ {print $(NF-2)}' security.out)
like "$score" '^[0-9]+\.[0-9]$' "systemd-analyze security gives a score ($score)"
ok $(awk -v s="$score" 'BEGIN {exit !(s <= 2.0)}'; echo $?) "exposure $score is at most 2.0 (OK)"
for d in User=keyward NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes CapabilityBoundingSet= \
	StateDirectory=keyward SystemCallFilter=@system-service; do
	grep -qx "$d" "$UNIT"; ok $? "unit has $d"
done
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$UNIT"; ok $? "reload = SIGHUP (log reopen)"

if command -v logrotate >/dev/null; then
	sed -e "s|/var/log/keyward/keyward.log|$TRASH/k.log|" -e "s|create 0640 keyward keyward|create 0640 root root|" \
		"$KW_ROOT/contrib/logrotate/keyward" > lr.conf
	: > k.log
	logrotate -d -s lr.state lr.conf > lr.out 2>&1; ok $? "logrotate -d parses the contrib file"
	if grep -qi 'error' lr.out; then ok 1 "logrotate: no errors"; sed 's/^/#   /' lr.out; else ok 0 "logrotate: no errors"; fi
else
	ok 1 "logrotate is installed (contrib/install-deps.sh)"
fi

# the nginx site inside a minimal nginx.conf, with a throw-away certificate and cache
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem -days 1 \
	-subj /CN=keys.example.org >/dev/null 2>&1
mkdir -p ngx/logs
sed -e "s|/etc/ssl/certs/keys.example.org.pem|$TRASH/cert.pem|" -e "s|/etc/ssl/private/keys.example.org.key|$TRASH/key.pem|" \
	-e "s|/var/cache/nginx/keyward|$TRASH/ngx/cache|" "$KW_ROOT/contrib/nginx/keyward.conf" > ngx/site.conf
printf 'pid %s/ngx/nginx.pid;\nerror_log %s/ngx/error.log;\nevents {}\nhttp { include %s/ngx/site.conf; }\n' \
	"$TRASH" "$TRASH" "$TRASH" > ngx/nginx.conf
nginx -t -p "$TRASH/ngx/" -c "$TRASH/ngx/nginx.conf" > nginx-t.out 2>&1; ok $? "nginx -t accepts the site" || sed 's/^/#   /' nginx-t.out
done_testing
