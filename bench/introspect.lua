-- wrk script: RFC 7662 introspection requests, `token=…` in a form body.
-- env: AUTH (the caller's Authorization header value), POOL_FILE (access tokens, one per line,
--      e.g. from bench/mint.lua), HOT (set to 1: repeat the pool's first token for every request).
-- Without HOT every request carries the next token of the pool, each sent once; when the pool
-- runs out the run stops early (the rate is then over the time actually run) and
-- `pool exhausted` is written to stderr. Use ONE thread (-t1) so that no token repeats.
-- A response is an error unless it is a 200 whose body says "active":true.
-- usage: AUTH=... POOL_FILE=pool wrk -s bench/introspect.lua -t1 -c64 -d10s http://127.0.0.1:PORT/introspect
wrk.method = 'POST'
wrk.headers['Content-Type'] = 'application/x-www-form-urlencoded'
wrk.headers['Authorization'] = os.getenv('AUTH')

local threads = {}
function setup(thread) table.insert(threads, thread) end

local pool, hot_request
sent, bad, exhausted = 0, 0, 0
function init(args)
  pool = assert(io.open(assert(os.getenv('POOL_FILE'), 'POOL_FILE is not set'), 'r'))
  if (os.getenv('HOT') or '') ~= '' and os.getenv('HOT') ~= '0' then
    local token = assert(pool:read('*l'), 'the pool is empty')
    hot_request = wrk.format(nil, nil, nil, 'token=' .. token)
  end
end

function request()
  if hot_request then return hot_request end
  local token = pool:read('*l')
  if not token or token == '' then
    if exhausted == 0 then io.stderr:write('pool exhausted after ', sent, ' tokens: stopping the run\n') end
    exhausted = 1
    finish()
    -- Never repeat a token: this placeholder is written but the stopped loop never reads its answer.
    return wrk.format(nil, nil, nil, 'token=pool-exhausted')
  end
  sent = sent + 1
  return wrk.format(nil, nil, nil, 'token=' .. token)
end

-- Ends the run now. wrk's main thread sleeps for the whole -d duration whatever its threads do,
-- and measures the rate over that time; SIGINT wakes it, and the rate is then over the time
-- actually run. The shell io.popen starts is wrk's child, so $PPID is wrk. (Not os.execute:
-- system() ignores SIGINT in the caller while its command runs.)
function finish()
  wrk.thread:stop()
  local sh = io.popen('kill -INT $PPID')
  if sh then sh:close() end
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"active":true', 1, true) then
    bad = bad + 1
    if bad <= 3 then io.stderr:write('bad answer: ', status, ' ', body:sub(1, 300), '\n') end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local n = e.connect + e.read + e.write + e.timeout
  local x = 0
  for _, t in ipairs(threads) do n = n + (t:get('bad') or 0); x = x + (t:get('exhausted') or 0) end
  io.write(string.format('rps %.0f p50_ms %.2f p99_ms %.2f errors %d\n',
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, n))
  if x > 0 then io.write('pool exhausted: the run stopped early\n') end
end
