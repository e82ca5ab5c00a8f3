// The session page's recording player: a waveform per channel (caller and agent lanes) drawn from
// the peaks the server measured, over an <audio> element that streams by byte ranges, so an hour
// of call starts at once. Turns and tool calls seek; the turn being heard is highlighted.
// Keys: space play/pause, ←/→ 5 s, p plays the current turn.
(function () {
  "use strict";

  function waitForProcessing() {
    var wait = document.querySelector("[data-recording-wait]");
    if (!wait) return;
    var url = wait.getAttribute("data-status-url");
    var timer = setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (body && body.status !== "pending" && body.status !== "processing") {
            clearInterval(timer);
            window.location.reload();
          }
        })
        .catch(function () {});
    }, 3000);
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function init() {
    waitForProcessing();
    var root = document.querySelector("[data-player]");
    if (!root || !window.WaveSurfer) return;

    var peaks = JSON.parse(document.getElementById("recording-peaks").textContent || "[]");
    var bleeps = JSON.parse(document.getElementById("recording-bleeps").textContent || "[]");
    var durationMs = Number(root.getAttribute("data-duration-ms")) || 0;
    var lanes = Array.prototype.map.call(root.querySelectorAll(".lane-label"), function (el) {
      return el.classList.contains("lane-caller") ? "caller" : el.classList.contains("lane-agent") ? "agent" : "mixed";
    });
    var colours = {
      caller: { waveColor: "#9db4d6", progressColor: "#2f5fa7" },
      agent: { waveColor: "#b9c9a8", progressColor: "#4f7a2a" },
      mixed: { waveColor: "#b7b3c9", progressColor: "#5b4f99" },
    };

    var audio = document.createElement("audio");
    audio.preload = "metadata";
    audio.src = root.getAttribute("data-src");
    var regions = window.WaveSurfer.Regions.create();
    var ws = window.WaveSurfer.create({
      container: root.querySelector("[data-waveform]"),
      media: audio,
      peaks: peaks.length ? peaks : undefined,
      duration: durationMs / 1000,
      height: peaks.length > 1 ? 44 : 64,
      splitChannels: lanes.map(function (lane) { return colours[lane] || colours.mixed; }),
      normalize: true,
      barWidth: 2,
      barGap: 1,
      barRadius: 2,
      cursorColor: "#d14343",
      cursorWidth: 2,
      dragToSeek: true,
      cspNonce: root.getAttribute("data-csp-nonce") || undefined,
      plugins: [regions],
    });
    var silences = JSON.parse((document.getElementById("recording-silences") || {}).textContent || "[]");
    ws.on("decode", function () {
      silences.forEach(function (span) {
        regions.addRegion({
          start: span[0] / 1000, end: span[1] / 1000, drag: false, resize: false,
          color: "rgba(100, 116, 139, 0.10)",
        });
      });
      bleeps.forEach(function (span) {
        regions.addRegion({
          start: span[0] / 1000, end: span[1] / 1000, drag: false, resize: false,
          color: "rgba(209, 67, 67, 0.16)",
        });
      });
    });

    var items = Array.prototype.slice.call(document.querySelectorAll("[data-seek-ms]"));
    var turns = items.filter(function (el) { return el.matches("[data-testid=turn]"); });
    var playLabel = root.querySelector("[data-play-label]");
    var time = root.querySelector("[data-time]");
    var slider = root.querySelector("[data-waveform]");
    var current = null;
    var stopAt = null;

    function seekMs(ms, play) {
      var seconds = Math.max(0, ms / 1000);
      ws.setTime(seconds);
      if (play) ws.play();
    }

    function currentTurn(ms) {
      var found = null;
      for (var i = 0; i < turns.length; i++) {
        var start = Number(turns[i].getAttribute("data-seek-ms"));
        var end = Number(turns[i].getAttribute("data-end-ms"));
        if (start <= ms && ms < Math.max(end, start + 1)) found = turns[i];
      }
      return found;
    }

    function update() {
      var seconds = ws.getCurrentTime();
      var ms = seconds * 1000;
      time.textContent = clock(seconds) + " / " + clock(durationMs / 1000);
      slider.setAttribute("aria-valuenow", String(Math.round(ms)));
      var turn = currentTurn(ms);
      if (turn !== current) {
        if (current) current.classList.remove("is-current");
        if (turn) turn.classList.add("is-current");
        current = turn;
      }
      if (stopAt !== null && ms >= stopAt) { ws.pause(); stopAt = null; }
    }

    ws.on("timeupdate", update);
    ws.on("play", function () { playLabel.textContent = "❚❚ Pause"; root.classList.add("is-playing"); });
    ws.on("pause", function () { playLabel.textContent = "▶ Play"; root.classList.remove("is-playing"); });
    ws.on("finish", function () { playLabel.textContent = "▶ Play"; });

    function playTurn(turn) {
      if (!turn) return false;
      stopAt = Number(turn.getAttribute("data-end-ms")) || null;
      seekMs(Number(turn.getAttribute("data-seek-ms")), true);
      return true;
    }

    root.addEventListener("click", function (event) {
      var target = event.target;
      if (target.closest("[data-play]")) { stopAt = null; ws.playPause(); return; }
      var skip = target.closest("[data-skip]");
      if (skip) { ws.setTime(Math.max(0, ws.getCurrentTime() + Number(skip.getAttribute("data-skip")))); return; }
      var rate = target.closest("[data-rate]");
      if (rate) {
        ws.setPlaybackRate(Number(rate.getAttribute("data-rate")), true);
        root.querySelectorAll("[data-rate]").forEach(function (b) {
          var on = b === rate;
          b.classList.toggle("is-active", on);
          b.setAttribute("aria-pressed", on ? "true" : "false");
        });
      }
    });

    document.addEventListener("click", function (event) {
      var target = event.target;
      if (target.closest("a, input, textarea, select, summary, form, details, [data-player]")) return;
      if (target.closest("button") && !target.closest("[data-seek]")) return;
      var item = target.closest("[data-seek-ms]");
      if (!item) return;
      stopAt = null;
      seekMs(Number(item.getAttribute("data-seek-ms")), true);
    });

    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.altKey || event.metaKey || event.ctrlKey || typing(event.target)) return;
      var onControl = event.target.closest && event.target.closest("button, a, summary");
      var handled = true;
      switch (event.key) {
        case " ":
          if (onControl) { handled = false; break; }
          stopAt = null;
          ws.playPause();
          break;
        case "ArrowLeft": ws.setTime(Math.max(0, ws.getCurrentTime() - 5)); break;
        case "ArrowRight": ws.setTime(Math.min(durationMs / 1000, ws.getCurrentTime() + 5)); break;
        case "p": handled = playTurn(current || currentTurn(ws.getCurrentTime() * 1000) || turns[0]); break;
        default: handled = false;
      }
      if (handled) event.preventDefault();
    });

    window.sessionPlayer = { wavesurfer: ws, audio: audio, seekMs: seekMs };
    root.setAttribute("data-ready", "true");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
