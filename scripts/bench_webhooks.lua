-- wrk script: POST pre-signed EventSub notifications, one line of the file each.
-- Each line: message id, timestamp, signature, body, separated by tabs.
-- Arguments: the file, then optionally "once".
--   Without "once", the file is sent over and over until wrk's time is up.
--   With "once" (run it with one thread, -t1), each line is sent exactly once: the thread
--   prints "bench-once first" as it sends the first, then, after the last answer,
--   "bench-once done" and the count of each status (e.g. "200=9999 503=1"), and stops.
--   wrk keeps its main thread asleep for -d, so the caller sends SIGINT on "done" to get
--   wrk's report at once.
local requests = {}
local next_request = 0
local calls, answered, statuses = 0, 0, {}

local function say(line)
  io.write("bench-once " .. line .. "\n")  -- one write: main's lines cannot cut in
  io.flush()
end

-- Each line once; "" (nothing to write: the connection idles) once all are sent. wrk calls
-- request() once up front to check the script (first thread only); that answer is not sent.
local function each_once()
  calls = calls + 1
  if calls == 1 then
    return requests[1]
  end
  if next_request == #requests then
    return ""
  end
  if next_request == 0 then
    say("first")
  end
  next_request = next_request + 1
  return requests[next_request]
end

-- Count each answer's status; stop the thread after the last.
local function count_answer(status)
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if answered == #requests then
    local counts = {}
    for code, count in pairs(statuses) do
      counts[#counts + 1] = code .. "=" .. count
    end
    say("done " .. table.concat(counts, " "))
    wrk.thread:stop()
  end
end

local function over_and_over()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function init(args)
  for line in io.lines(args[1]) do
    local id, timestamp, signature, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    requests[#requests + 1] = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["Twitch-Eventsub-Message-Id"] = id,
      ["Twitch-Eventsub-Message-Timestamp"] = timestamp,
      ["Twitch-Eventsub-Message-Signature"] = signature,
      ["Twitch-Eventsub-Message-Type"] = "notification",
      ["Twitch-Eventsub-Subscription-Type"] = "channel.update",
      ["Twitch-Eventsub-Subscription-Version"] = "2",
    }, body)
  end
  if args[2] == "once" then
    request, response = each_once, count_answer
  else
    request = over_and_over
  end
end
