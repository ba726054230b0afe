# Sourced by the scripts that start smsc-sim or another test server.
#
# start_listening DIR NAME COMMAND...: starts COMMAND in the background with
# its stdout in DIR/NAME.out and stderr in DIR/NAME.err, and waits (up to
# 10 s) for its first stdout line "... listening on HOST:PORT". Sets
# `server_pid` and `port`. When the server dies or never says it listens,
# prints its output to stderr and returns 1 (server_pid is still set, for
# the caller's cleanup).
start_listening() {
  local dir=$1 name=$2 line='' i
  shift 2
  "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
  server_pid=$!
  port=
  for ((i = 0; i < 200; i++)); do
    line=$(head -n 1 "$dir/$name.out")
    [[ $line =~ listening\ on\ .*:([0-9]+)$ ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  if [[ ! $line =~ listening\ on\ .*:([0-9]+)$ ]]; then
    echo "$name did not start listening; its output:" >&2
    cat "$dir/$name.out" "$dir/$name.err" >&2
    return 1
  fi
  port=${BASH_REMATCH[1]}
}
