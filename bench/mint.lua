-- wrk script: fills a pool of fresh access tokens for bench/introspect.lua, one per line.
-- Sends the same client_credentials request as bench/cc.lua and appends each access_token to
-- POOL_FILE; stops once POOL_SIZE tokens are written. Use ONE thread (-t1): every thread would
-- write its own copy of the count.
-- env: AUTH, SCOPE, RESOURCE (as bench/cc.lua), POOL_FILE, POOL_SIZE.
-- usage: AUTH=... POOL_FILE=/tmp/pool POOL_SIZE=100000 wrk -s bench/mint.lua -t1 -c64 -d120s URL
local body = 'grant_type=client_credentials&scope=' .. (os.getenv('SCOPE') or 'api:read')
local resource = os.getenv('RESOURCE')
if resource and resource ~= '' then
  body = body .. '&resource=' .. resource:gsub('[^%w%-%._~]', function(c) return string.format('%%%02X', c:byte()) end)
end
wrk.method = 'POST'
wrk.headers['Content-Type'] = 'application/x-www-form-urlencoded'
wrk.headers['Authorization'] = os.getenv('AUTH')
wrk.body = body

local threads = {}
function setup(thread) table.insert(threads, thread) end

local out, want
minted, bad = 0, 0
function init(args)
  want = assert(tonumber(os.getenv('POOL_SIZE') or ''), 'POOL_SIZE is not a number')
  out = assert(io.open(assert(os.getenv('POOL_FILE'), 'POOL_FILE is not set'), 'w'))
  -- Line-buffered: a run cut short by -d never leaves half a token in the file.
  out:setvbuf('line')
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
  if minted >= want then return end
  local token = status == 200 and string.match(body, '"access_token"%s*:%s*"([^"]+)"')
  if not token then
    bad = bad + 1
    if bad <= 3 then io.stderr:write('bad answer: ', status, ' ', body:sub(1, 300), '\n') end
    return
  end
  out:write(token, '\n')
  minted = minted + 1
  if minted >= want then
    out:close()
    finish()
  end
end

function done(summary, latency, requests)
  local n, b = 0, 0
  for _, t in ipairs(threads) do n = n + (t:get('minted') or 0); b = b + (t:get('bad') or 0) end
  io.write(string.format('minted %d rps %.0f errors %d\n', n, summary.requests / (summary.duration / 1e6),
    b + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
