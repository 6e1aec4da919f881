// play-alias.js — /play.html is an alias of the player (/index.html), keeping the parameters.
location.replace(`index.html${location.search}${location.hash}`);
