// guard review console: keyboard shortcuts on an item page. Everything works without this script.
// A shortcut never delivers a held answer on its own: "a" on a held item asks first (data-confirm).
(function () {
  "use strict";
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var key = event.key.toLowerCase();
    if (key === "a") {
      var approve = document.getElementById("approve-form");
      if (approve) {
        event.preventDefault();
        if (!approve.dataset.confirm || window.confirm(approve.dataset.confirm)) { approve.requestSubmit(); }
      }
    } else if (key === "e") {
      var editor = document.getElementById("final_text");
      if (editor) { event.preventDefault(); editor.focus(); editor.setSelectionRange(editor.value.length, editor.value.length); }
    } else if (key === "r") {
      var reason = document.getElementById("reason");
      if (reason) { event.preventDefault(); reason.focus(); }
    }
  });
})();
