/* keyward — progressive enhancement only: a "Copy" button beside an armored key. Without
 * JavaScript the key is still on the page and the download link works. */
(function () {
	'use strict';
	function setup() {
		var blocks = document.querySelectorAll('pre[data-copy]');
		Array.prototype.forEach.call(blocks, function (pre) {
			if (!navigator.clipboard) return;
			var button = document.createElement('button');
			var status = document.createElement('span');
			button.type = 'button';
			button.className = 'secondary';
			button.textContent = 'Copy key';
			status.setAttribute('role', 'status');
			button.addEventListener('click', function () {
				navigator.clipboard.writeText(pre.textContent).then(function () {
					status.textContent = ' Copied.';
				}, function () {
					status.textContent = ' Could not copy; select the text instead.';
				});
			});
			var where = document.getElementById(pre.getAttribute('data-copy')) || pre.parentNode;
			where.appendChild(button);
			where.appendChild(status);
		});
	}
	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setup);
	else setup();
})();
