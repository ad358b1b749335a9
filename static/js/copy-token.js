// Copy buttons for secrets shown once (the new API token). The button names
// its target with data-copy-target; it stays hidden where copying cannot work.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (error) {
        copied = false;
      }
      document.body.removeChild(area);
      if (copied) {
        resolve();
      } else {
        reject(new Error("copy refused"));
      }
    });
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target) {
      return;
    }
    var status = button.closest("section")
      ? button.closest("section").querySelector(".copy-status")
      : null;
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(target.textContent.trim()).then(
        function () {
          button.textContent = "Copied";
          if (status) {
            status.textContent = "The token is on your clipboard.";
          }
        },
        function () {
          selectText(target);
          if (status) {
            status.textContent = "Copying was refused: the token is selected, press Ctrl+C.";
          }
        }
      );
    });
  });
})();
