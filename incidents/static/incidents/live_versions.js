/* Which of two states of a unit or a report to show: the rule every live page follows (the dispatch console,
   console/static/console/map.js and dispatcher.js; the crew page, crew/static/crew/crew.js).

   Each unit and report the server sends, by REST or in a live message, carries its `version`
   (incidents/representations.py): its revision, which PostgreSQL bumps in every transaction that changes it,
   read in the same snapshot as the rest of it. Two server processes may deliver their messages in either order,
   so a page applies a live message only when its version is higher than the one it shows (the same version
   again says nothing new), and a fresh REST read (after a reconnect, or its own action) when it is not lower:
   a read that started before a message it has already applied must not undo it. Without a version on either
   side (an older server) the candidate wins, as before versions. */
(function (root) {
  "use strict";

  function newer(candidate, shown, freshRead) {
    if (!candidate) return false;
    if (!shown || candidate.version == null || shown.version == null) return true;
    return freshRead ? candidate.version >= shown.version : candidate.version > shown.version;
  }

  const api = { newer };
  if (typeof module === "object" && module.exports) module.exports = api; // node, for tests/incidents/
  else root.SiagaVersions = api;
})(typeof window !== "undefined" ? window : globalThis);
