// Stratus dashboard: confirmations, project switch, self-refreshing rows,
// uploads with a progress bar. No framework; every page works without it too.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = (form || document).querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      ev.preventDefault();
      return;
    }
    if (form.getAttribute("data-upload")) {
      ev.preventDefault();
      upload(form);
    }
  });

  document.addEventListener("change", function (ev) {
    var select = ev.target;
    if (select.id === "project-select") {
      var form = document.getElementById("project-switch");
      form.action = select.getAttribute("data-switch") + encodeURIComponent(select.value) + "/";
      form.submit();
    }
  });

  // Rows with data-refresh are fetched again every 2 s until they stop changing.
  function refreshRows() {
    var rows = document.querySelectorAll("tr[data-refresh]");
    rows.forEach(function (row) {
      fetch(row.getAttribute("data-refresh"), {
        headers: {"X-Requested-With": "XMLHttpRequest"}, credentials: "same-origin"
      }).then(function (resp) {
        if (resp.status === 404) { row.remove(); return null; }
        if (resp.status === 401) { window.location.reload(); return null; }
        return resp.ok ? resp.text() : null;
      }).then(function (html) {
        if (!html || !row.parentNode) { return; }
        var holder = document.createElement("tbody");
        holder.innerHTML = html.trim();
        var fresh = holder.firstElementChild;
        if (fresh) { row.replaceWith(fresh); }
      }).catch(function () { /* try again next round */ });
    });
  }
  setInterval(refreshRows, 2000);

  // Multipart upload through XMLHttpRequest, for its progress events.
  function upload(form) {
    var box = form.querySelector(".progress");
    var bar = form.querySelector("#upload-bar");
    var text = form.querySelector("#upload-text");
    var button = form.querySelector("button[type=submit]");
    var xhr = new XMLHttpRequest();
    box.hidden = false;
    button.disabled = true;
    xhr.upload.addEventListener("progress", function (ev) {
      if (ev.lengthComputable) {
        var pct = Math.round(100 * ev.loaded / ev.total);
        bar.style.width = pct + "%";
        text.textContent = pct + "% uploaded";
      }
    });
    xhr.upload.addEventListener("load", function () {
      text.textContent = "Uploaded; the cloud is storing it...";
    });
    xhr.addEventListener("load", function () {
      // The request followed the redirect already: show that page (with its
      // one-time messages) and put its address in the location bar.
      if (xhr.responseURL && xhr.responseURL !== window.location.href && xhr.status < 400) {
        window.history.replaceState(null, "", xhr.responseURL);
      }
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", function () {
      text.textContent = "The upload failed: the dashboard could not be reached.";
      button.disabled = false;
    });
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
    xhr.send(new FormData(form));
  }
})();
