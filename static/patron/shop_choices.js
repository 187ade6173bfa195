/* Shops told apart on admin forms (see shops/labels.py).
 *
 * - Choices whose options carry data-shop offer only the shop chosen in the form's shop
 *   field (#id_shop); a choice of another shop is cleared when the shop changes.
 * - Autocomplete searches (select2, through django.jQuery) send the chosen shop as
 *   shop=<id>, and the server searches that shop only.
 */
(function () {
  "use strict";

  function shopField() {
    return document.getElementById("id_shop");
  }

  function chosenShop() {
    var field = shopField();
    return field && field.value ? field.value : "";
  }

  function narrowChoices() {
    var shop = chosenShop();
    document.querySelectorAll("select").forEach(function (select) {
      if (!select.querySelector("option[data-shop]")) {
        return;
      }
      select.querySelectorAll("option[data-shop]").forEach(function (option) {
        var other = shop !== "" && option.dataset.shop !== shop;
        option.hidden = other;
        option.disabled = other;
        if (other && option.selected) {
          select.value = "";
        }
      });
    });
  }

  function clearAutocompletes() {
    if (!window.django || !django.jQuery) {
      return;
    }
    django.jQuery(".admin-autocomplete").each(function () {
      var select = django.jQuery(this);
      if (select.attr("id") !== "id_shop" && select.val()) {
        select.val(null).trigger("change");
      }
    });
  }

  if (window.django && django.jQuery) {
    django.jQuery.ajaxPrefilter(function (options) {
      var shop = chosenShop();
      if (shop && options.url && options.url.indexOf("/autocomplete/") !== -1) {
        options.url += (options.url.indexOf("?") === -1 ? "?" : "&") +
          "shop=" + encodeURIComponent(shop);
      }
    });
  }

  function start() {
    var field = shopField();
    if (!field) {
      return;
    }
    narrowChoices();
    field.addEventListener("change", function () {
      narrowChoices();
      clearAutocompletes();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
