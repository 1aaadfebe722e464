-- wrk script: POST pre-signed EventSub notifications, one line of the file each.
-- Each line: message id, timestamp, signature, body, separated by tabs.
local requests = {}
local next_request = 0

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
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end
