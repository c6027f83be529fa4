// The EchoTest demo, driven by the official janus.js. `window.demo` exposes the
// state for end-to-end tests.
/* global Janus, demoSettings */
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const transport = params.get("transport") === "ws" ? "ws" : "http";
  const server = transport === "ws" ? demoSettings.wsServer : demoSettings.httpServer;
  const demo = {
    transport,
    server,
    events: [],
    webrtcup: false,
    remoteTracks: 0,
    dataEcho: null,
    error: null,
  };
  globalThis.demo = demo;
  let echotest = null;
  let audioOn = true;
  let videoOn = true;
  const log = (text) => {
    demo.events.push(text);
    document.getElementById("log").textContent += text + "\n";
  };

  function start() {
    Janus.init({
      debug: params.get("debug") ? "all" : false,
      callback: () => {
        const janus = new Janus({
          server,
          success: () => attach(janus),
          error: (e) => {
            demo.error = String(e);
            log("error: " + e);
          },
        });
        demo.janus = janus;
      },
    });
  }

  function attach(janus) {
    janus.attach({
      plugin: "janus.plugin.echotest",
      opaqueId: "echotest-" + Janus.randomString(12),
      success: (handle) => {
        echotest = handle;
        demo.handle = handle;
        log("attached " + handle.getId());
        handle.send({ message: { audio: true, video: true } });
        handle.createOffer({
          tracks: [
            { type: "audio", capture: true, recv: true },
            { type: "video", capture: true, recv: true },
            { type: "data" },
          ],
          success: (jsep) => handle.send({ message: { audio: true, video: true }, jsep }),
          error: (e) => {
            demo.error = "createOffer: " + JSON.stringify(e);
            log(demo.error);
          },
        });
      },
      error: (e) => {
        demo.error = "attach: " + e;
        log(demo.error);
      },
      webrtcState: (on) => {
        demo.webrtcup = on;
        log("webrtc " + (on ? "up" : "down"));
      },
      mediaState: (medium, on, mid) => log(`media ${medium} ${mid} ${on}`),
      onmessage: (msg, jsep) => {
        log("event " + JSON.stringify(msg));
        if (jsep) echotest.handleRemoteJsep({ jsep });
        if (msg.result === "done") log("done");
      },
      onlocaltrack: (track, on) => {
        if (!on) return;
        const el = document.getElementById("local");
        const stream = el.srcObject || new MediaStream();
        stream.addTrack(track);
        el.srcObject = stream;
      },
      onremotetrack: (track, _mid, on) => {
        if (!on) return;
        demo.remoteTracks++;
        const el = document.getElementById("remote");
        const stream = el.srcObject || new MediaStream();
        stream.addTrack(track);
        el.srcObject = stream;
      },
      ondataopen: () => {
        demo.dataOpen = true;
        log("data channel open");
      },
      ondata: (data) => {
        demo.dataEcho = data;
        document.getElementById("echo").textContent = data;
      },
      oncleanup: () => log("cleanup"),
    });
  }

  document.getElementById("start").onclick = start;
  document.getElementById("audio").onclick = () => {
    audioOn = !audioOn;
    echotest?.send({ message: { audio: audioOn } });
  };
  document.getElementById("video").onclick = () => {
    videoOn = !videoOn;
    echotest?.send({ message: { video: videoOn } });
  };
  document.getElementById("hangup").onclick = () => echotest?.hangup();
  document.getElementById("send").onclick = () =>
    echotest?.data({ text: document.getElementById("text").value });
  demo.start = start;
  if (params.get("autostart") !== "0") start();
})();
