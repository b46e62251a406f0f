// Instances panel: the launch form shows the image or the volume choice,
// following the boot source. Without it both are shown.
(function () {
  "use strict";
  function follow() {
    var source = document.getElementById("id_source_type");
    if (!source) { return; }
    var image = document.getElementById("field-image");
    var volume = document.getElementById("field-volume");
    if (image) { image.style.display = source.value === "image" ? "" : "none"; }
    if (volume) { volume.style.display = source.value === "volume" ? "" : "none"; }
  }
  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.id === "id_source_type") { follow(); }
  });
  document.addEventListener("DOMContentLoaded", follow);
})();
