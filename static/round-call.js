// The round's 1:1 call. Media goes straight between the two browsers
// (WebRTC); mockloop carries only the signalling: each message is posted to
// the server, and the other page receives it on the call's event stream,
// which resumes after the last message it saw when it reconnects (another
// instance, a restarted server). Negotiation follows WebRTC's "perfect
// negotiation": when both pages offer at once, the candidate's ("polite")
// gives way. A page that joined rejoins by itself after a reload, with a new
// session name, and the other page replaces its connection to the old one.
(function () {
  "use strict";

  var panel = document.getElementById("call");
  if (!panel) return;
  var statusText = document.getElementById("call-status");
  var videos = document.getElementById("call-videos");
  var remoteVideo = document.getElementById("call-remote");
  var selfVideo = document.getElementById("call-self");
  var joinButton = document.getElementById("call-join");
  var muteButton = document.getElementById("call-mute");
  var cameraButton = document.getElementById("call-camera");
  var soundButton = document.getElementById("call-sound");
  var leaveButton = document.getElementById("call-leave");
  var other = panel.dataset.other;
  var Other = other.charAt(0).toUpperCase() + other.slice(1);

  if (!window.RTCPeerConnection || !window.EventSource || !navigator.mediaDevices) {
    statusText.textContent = "This browser cannot make calls.";
    return;
  }

  var polite = panel.dataset.polite === "true";
  var iceServers = [];
  try { iceServers = JSON.parse(panel.dataset.iceServers || "[]"); } catch (e) { /* host candidates only */ }
  var lastId = parseInt(panel.dataset.after, 10) || 0;
  var rejoinKey = "mockloop:call:" + panel.dataset.signals;

  var session = null;   // this page's attempt at the call, while joined
  var remote = null;    // the other page's session this page is connected to
  var peer = null;
  var local = null;     // the camera and microphone
  var senders = {};     // by kind, for mute and camera off
  var makingOffer = false;
  var ignoreOffer = false;
  var muted = false;
  var cameraOff = false;
  var sending = Promise.resolve();
  var receiving = Promise.resolve();

  function say(text) {
    if (statusText.textContent !== text) statusText.textContent = text;
  }

  function show(joined) {
    joinButton.hidden = joined;
    muteButton.hidden = !joined || !track("audio");
    cameraButton.hidden = !joined || !track("video");
    leaveButton.hidden = !joined;
    videos.hidden = !joined;
    if (!joined) soundButton.hidden = true;
  }

  function track(kind) {
    if (!local) return null;
    var tracks = kind === "audio" ? local.getAudioTracks() : local.getVideoTracks();
    return tracks[0] || null;
  }

  function newSession() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return "p" + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // Messages go out one at a time, in order; a message the server could not
  // take because it was away (restarting) is tried again for a while.
  function send(message) {
    sending = sending.then(function () { return post(message, 30); });
    return sending;
  }

  function post(message, triesLeft) {
    return fetch(panel.dataset.signals, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(message),
      credentials: "same-origin"
    }).then(function (response) {
      if (response.ok) return;
      if (response.status >= 500 && triesLeft > 0) return retry(message, triesLeft);
      return response.json().then(function (body) {
        say("The call stopped: " + body.error);
      }, function () {
        say("The call stopped: the server refused its message (" + response.status + ").");
      });
    }, function () {
      if (triesLeft > 0) return retry(message, triesLeft);
      say("The call cannot reach the server; reload the page to try again.");
    });
  }

  function retry(message, triesLeft) {
    return new Promise(function (resolve) { setTimeout(resolve, 1000); }).then(function () {
      return post(message, triesLeft - 1);
    });
  }

  function describeState() {
    if (!session) return;
    if (!peer) {
      say("Waiting for " + other + " to join the call.");
      return;
    }
    var alone = track("video") ? "" : track("audio") ? " (audio only: no camera was found)" : " (no camera or microphone was found: you only see and hear " + other + ")";
    switch (peer.connectionState) {
      case "connected": say("Connected with " + other + "." + alone); break;
      case "disconnected": say("Reconnecting to " + other + "…"); break;
      case "failed": say("Failed: no network path to " + other + ". Leave and join again; between different networks the server needs a TURN server."); break;
      case "closed": break;
      default: say("Connecting to " + other + "…");
    }
  }

  function closePeer() {
    if (peer) {
      peer.onnegotiationneeded = peer.onicecandidate = peer.ontrack = peer.onconnectionstatechange = null;
      peer.close();
    }
    peer = null;
    senders = {};
    makingOffer = ignoreOffer = false;
    remoteVideo.srcObject = null;
  }

  // A fresh connection to the other page's session `theirs`. As the offerer
  // (they just joined), it also asks to receive what it does not send.
  function connectTo(theirs, offering) {
    closePeer();
    remote = theirs;
    var connection = new RTCPeerConnection({ iceServers: iceServers });
    peer = connection;
    connection.onnegotiationneeded = function () {
      makingOffer = true;
      connection.setLocalDescription().then(function () {
        return send({ kind: "description", session: session, to: theirs, description: connection.localDescription.toJSON() });
      }).catch(trouble).then(function () { makingOffer = false; });
    };
    connection.onicecandidate = function (event) {
      if (event.candidate) send({ kind: "candidate", session: session, to: theirs, candidate: event.candidate.toJSON() });
    };
    connection.ontrack = function (event) {
      remoteVideo.srcObject = event.streams[0] || new MediaStream([event.track]);
      play();
    };
    connection.onconnectionstatechange = function () {
      // The impolite page restarts the search for a path; the polite one answers.
      if (connection.connectionState === "failed" && !polite) connection.restartIce();
      describeState();
    };
    ["audio", "video"].forEach(function (kind) {
      var mine = track(kind);
      if (mine) {
        senders[kind] = connection.addTrack(mine, local);
        if ((kind === "audio" && muted) || (kind === "video" && cameraOff)) senders[kind].replaceTrack(null).catch(trouble);
      } else if (offering) {
        connection.addTransceiver(kind, { direction: "recvonly" });
      }
    });
    describeState();
  }

  function onDescription(description) {
    var collision = description.type === "offer" && (makingOffer || peer.signalingState !== "stable");
    ignoreOffer = !polite && collision;
    if (ignoreOffer) return Promise.resolve();
    var connection = peer, theirs = remote;
    return connection.setRemoteDescription(description).then(function () {
      if (description.type !== "offer") return;
      return connection.setLocalDescription().then(function () {
        return send({ kind: "description", session: session, to: theirs, description: connection.localDescription.toJSON() });
      });
    });
  }

  function handle(message) {
    switch (message.kind) {
      case "join":
        if (!session) {
          say(Other + " is in the call. Join when you are ready.");
          return;
        }
        // A new page of theirs (a first join or a reload): a new connection replaces the old one.
        connectTo(message.session, true);
        return;
      case "leave":
        if (remote !== null && message.session !== remote) return;
        closePeer();
        remote = null;
        say(Other + " left the call.");
        return;
      case "description":
        if (!session || message.to !== session) return;
        if (message.session !== remote) {
          if (message.description.type !== "offer") return;
          connectTo(message.session, false);
        }
        return onDescription(message.description);
      case "candidate":
        if (!session || !peer || message.to !== session || message.session !== remote) return;
        return peer.addIceCandidate(message.candidate).catch(function (error) {
          if (!ignoreOffer) throw error;
        });
    }
  }

  function trouble(error) {
    say("The call hit a problem (" + (error && error.name || "error") + "). Leave and join again.");
  }

  function play() {
    remoteVideo.play().catch(function () {
      // Sound needs a click first on a page that reloaded by itself: start muted, offer the sound.
      remoteVideo.muted = true;
      soundButton.hidden = false;
      return remoteVideo.play();
    }).catch(function () { /* shown once the sound button is pressed */ });
  }

  function openMedia() {
    return navigator.mediaDevices.getUserMedia({ audio: true, video: true }).catch(function () {
      return navigator.mediaDevices.getUserMedia({ audio: true });
    }).catch(function () {
      return new MediaStream();
    });
  }

  function join() {
    if (session) return;
    joinButton.disabled = true;
    say("Opening your camera and microphone…");
    openMedia().then(function (stream) {
      local = stream;
      selfVideo.srcObject = stream;
      session = newSession();
      try { sessionStorage.setItem(rejoinKey, "joined"); } catch (e) { /* storage disabled: no rejoin */ }
      show(true);
      describeState();
      return send({ kind: "join", session: session });
    }).catch(trouble).then(function () { joinButton.disabled = false; });
  }

  function leave() {
    if (!session) return;
    var leaving = session;
    session = null;
    closePeer();
    remote = null;
    if (local) local.getTracks().forEach(function (t) { t.stop(); });
    local = null;
    selfVideo.srcObject = null;
    try { sessionStorage.removeItem(rejoinKey); } catch (e) { /* ignore */ }
    show(false);
    say("You left the call.");
    send({ kind: "leave", session: leaving });
  }

  function setMuted(value) {
    muted = value;
    var mine = track("audio");
    if (mine) mine.enabled = !muted;
    if (senders.audio) senders.audio.replaceTrack(muted ? null : mine).catch(trouble);
    muteButton.setAttribute("aria-pressed", String(muted));
  }

  function setCameraOff(value) {
    cameraOff = value;
    var mine = track("video");
    if (mine) mine.enabled = !cameraOff;
    if (senders.video) senders.video.replaceTrack(cameraOff ? null : mine).catch(trouble);
    selfVideo.hidden = cameraOff;
    cameraButton.setAttribute("aria-pressed", String(cameraOff));
  }

  function listen() {
    var source = new EventSource(panel.dataset.events + "?after=" + lastId);
    source.addEventListener("signal", function (event) {
      var id = parseInt(event.lastEventId, 10);
      if (!(id > lastId)) return;
      lastId = id;
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      receiving = receiving.then(function () { return handle(message); }).catch(trouble);
    });
    // A refused reconnection (a restarting server's 503) closes the stream for good: open another.
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) setTimeout(listen, 3000);
    });
  }

  joinButton.addEventListener("click", join);
  leaveButton.addEventListener("click", leave);
  muteButton.addEventListener("click", function () { setMuted(!muted); });
  cameraButton.addEventListener("click", function () { setCameraOff(!cameraOff); });
  soundButton.addEventListener("click", function () {
    remoteVideo.muted = false;
    remoteVideo.play().then(function () { soundButton.hidden = true; }, function () { /* try again */ });
  });
  window.addEventListener("pagehide", function () {
    // The other page drops this connection at once; a reload rejoins with a new session.
    if (session) {
      fetch(panel.dataset.signals, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ kind: "leave", session: session }),
        credentials: "same-origin",
        keepalive: true
      }).catch(function () { /* the page is going */ });
    }
  });

  // For tests and the curious: the connection, to read its statistics.
  window.mockloop = window.mockloop || {};
  window.mockloop.call = { connection: function () { return peer; } };

  show(false);
  listen();
  var rejoin = false;
  try { rejoin = sessionStorage.getItem(rejoinKey) === "joined"; } catch (e) { /* no rejoin */ }
  if (rejoin) join();
})();
