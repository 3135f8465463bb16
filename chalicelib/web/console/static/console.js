// The console's one script of its own: a product image goes from the browser straight to S3
// (docs/uploads.md): the console signs the upload (POST /console/uploads, CSRF header), the
// browser sends the presigned form with the file to S3, then the console attaches the image's
// URL to the product (which checks it is ours and really uploaded) and shows the product again.
(function () {
  "use strict";

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  function say(element, text, bad) {
    element.textContent = text;
    element.className = bad ? "alert" : "muted";
  }

  async function upload(input) {
    var file = input.files && input.files[0];
    var status = document.getElementById(input.dataset.status);
    if (!file) { return; }
    say(status, "上传中…", false);
    var ask = new URLSearchParams({ content_type: file.type, size_bytes: String(file.size) });
    var signed = await fetch("/console/uploads", { method: "POST", body: ask, credentials: "same-origin",
                                                   headers: { "X-CSRF-Token": csrf() } });
    var form = await signed.json();
    if (!signed.ok) { say(status, "不能上传：" + form.error.code + "（" + form.error.message + "）", true); return; }
    var data = new FormData();
    Object.keys(form.upload.fields).forEach(function (name) { data.append(name, form.upload.fields[name]); });
    data.append("file", file);
    var sent = await fetch(form.upload.url, { method: "POST", body: data, mode: "cors" });
    if (!sent.ok) { say(status, "上传失败（" + sent.status + "）", true); return; }
    // as htmx asks: the answer names the page to show next (HX-Redirect) instead of redirecting
    var attach = await fetch(input.dataset.attach, { method: "POST", credentials: "same-origin",
                                                     body: new URLSearchParams({ add: form.image_url }),
                                                     headers: { "X-CSRF-Token": csrf(), "HX-Request": "true" } });
    await attach.text();  // read to the end: leaving the page mid-answer would abort it
    var next = attach.headers.get("HX-Redirect");
    if (next) { window.location.assign(next); return; }
    say(status, "图片未能加入商品（" + attach.status + "）", true);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input[type=file][data-upload]")) {
      upload(target).catch(function (error) {
        say(document.getElementById(target.dataset.status), "上传失败：" + error, true);
      });
    }
  });
}());
