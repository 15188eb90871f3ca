// t/browser/run.js — drives headless Chromium (Debian's /usr/bin/chromium, through playwright-core)
// through keyward's pages for the t/13xx tests. It prints one line per check, "ok NAME" or
// "not ok NAME" (with "# " diagnostics), which the shell test turns into TAP; it exits 0 when it ran.
//
//   node run.js SCENARIO.json
// The scenario file: { "base": "http://127.0.0.1:PORT", "js": true|false, "width": 1280|390,
//   "shots": "DIR", "name": "desktop", "link_cmd": "sh getlink.sh", "steps": [ … ] } with steps
//   { "do": "upload", "file": PATH } | { "do": "paste", "file": PATH } — the upload page
//   { "do": "confirm", "address": ADDR } — link_cmd ADDR prints the mailed link; open it, confirm
//   { "do": "search", "address": ADDR, "fpr": FPR } — search from the start page, open the key page
//   { "do": "hostile", "address": ADDR, "text": T } — T is on the page as text and nothing ran
//   { "do": "visit", "path": P, "status": N } — any page: headers, accessibility, screenshot
//   { "do": "formless", "path": P } — a POST without a form token is refused, says what to do
//   { "do": "form", "path": P, "fill": {SELECTOR: TEXT}, "file": {SELECTOR: PATH}, "check": [SELECTOR],
//     "submit": SELECTOR, "status": N, "expect": TEXT } — any page's form, filled and sent
//   { "do": "mailed", "address": ADDR, "kind": "manage", "expect": TEXT, then "check"/"submit"/
//     "status"/"after" (text expected after submitting) } — link_cmd ADDR KIND gives the mailed link
// Every page of every step is checked for: the security headers, requests to anything but the server
// (refused and reported), CSP violations, exactly one h1, labels on every field, text contrast of
// at least 4.5:1, and (at 390 px) no horizontal scrolling. A screenshot of each page goes to shots.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require(path.join(__dirname, 'node_modules', 'playwright-core'));

const sc = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const origin = new URL(sc.base).origin;
let shotNo = 0;

function check(cond, name, diag) {
	console.log(`${cond ? 'ok' : 'not ok'} ${sc.name}: ${name}`);
	if (!cond && diag !== undefined)
		for (const l of String(diag).split('\n').slice(0, 15))
			console.log(`# ${l}`);
	return cond;
}

// Runs in the page: the accessibility and layout facts of the document.
function pageFacts() {
	const lum = (c) => {
		const m = c.match(/rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/);
		if (!m) return null;
		if (m[4] !== undefined && parseFloat(m[4]) === 0) return null;   // transparent
		const ch = [m[1], m[2], m[3]].map((v) => {
			v = parseFloat(v) / 255;
			return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
		});
		return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
	};
	const bgOf = (el) => {
		for (; el; el = el.parentElement) {
			const l = lum(getComputedStyle(el).backgroundColor);
			if (l !== null) return l;
		}
		return 1;   // the canvas is white
	};
	const low = [];
	for (const el of document.querySelectorAll('body *')) {
		const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
		if (!own || !el.getClientRects().length) continue;
		const fg = lum(getComputedStyle(el).color), bg = bgOf(el);
		const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
		if (ratio < 4.5) low.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
	}
	const unlabelled = [];
	for (const el of document.querySelectorAll('input, textarea, select')) {
		if (['hidden', 'submit', 'button'].includes(el.type)) continue;
		const lab = el.id && document.querySelector(`label[for="${el.id}"]`);
		if (!lab && !el.getAttribute('aria-label') && !el.closest('label')) unlabelled.push(el.name || el.id);
	}
	return {
		h1: document.querySelectorAll('h1').length,
		lang: document.documentElement.lang,
		title: document.title,
		unlabelled,
		lowContrast: low,
		overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
		scripts: Array.from(document.scripts).map((s) => s.src || 'INLINE'),
		imgsWithoutAlt: Array.from(document.images).filter((i) => !i.hasAttribute('alt')).length,
		imgsBroken: Array.from(document.images).filter((i) => !i.complete || !i.naturalWidth).map((i) => i.src),
	};
}

async function main() {
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
	const context = await browser.newContext({
		javaScriptEnabled: sc.js !== false,
		viewport: { width: sc.width || 1280, height: sc.width && sc.width < 600 ? 844 : 900 },
		deviceScaleFactor: 1,
		isMobile: (sc.width || 1280) < 600,
		hasTouch: (sc.width || 1280) < 600,
		acceptDownloads: true,
	});
	const page = await context.newPage();
	const outside = [], cspErrors = [], dialogs = [], documents = [];

	// Nothing may leave the server: every request to another origin is refused and reported.
	await context.route('**/*', (route) => {
		const u = new URL(route.request().url());
		if (u.origin !== origin && u.protocol !== 'data:' && u.protocol !== 'blob:') {
			outside.push(route.request().url());
			return route.abort();
		}
		return route.continue();
	});
	page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text()); });
	page.on('pageerror', (e) => cspErrors.push(`page error: ${e.message}`));
	page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
	page.on('response', (r) => { if (r.request().resourceType() === 'document') documents.push(r); });

	// The checks of every page, after each navigation.
	async function inspect(what, status) {
		const resp = documents[documents.length - 1];
		documents.length = 0;
		check(!!resp, `${what}: a page was loaded`);
		if (!resp) return;
		if (status !== undefined)
			check(resp.status() === status, `${what}: status ${status}`, `got ${resp.status()} for ${resp.url()}`);
		const h = await resp.allHeaders();
		const csp = h['content-security-policy'] || '';
		check(/frame-ancestors 'none'/.test(csp) && /default-src 'none'/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp),
		      `${what}: Content-Security-Policy`, csp);
		check(h['x-content-type-options'] === 'nosniff', `${what}: X-Content-Type-Options`);
		check(h['referrer-policy'] === 'no-referrer', `${what}: Referrer-Policy`);
		const f = await page.evaluate(pageFacts);
		check(f.h1 === 1, `${what}: one h1 heading`, `found ${f.h1}`);
		check(f.lang === 'en' && f.title.length > 0, `${what}: language and title`);
		check(f.unlabelled.length === 0, `${what}: every field has a label`, f.unlabelled.join(', '));
		check(f.lowContrast.length === 0, `${what}: text contrast at least 4.5:1`, f.lowContrast.join('\n'));
		check(f.imgsWithoutAlt === 0, `${what}: images have alt text`);
		check(f.imgsBroken.length === 0, `${what}: every image loads`, f.imgsBroken.join(' '));
		check(f.scripts.every((s) => s !== 'INLINE' && new URL(s).origin === origin), `${what}: only this server's script file`,
		      f.scripts.join(' '));
		if ((sc.width || 1280) < 600)
			check(f.overflow <= 0, `${what}: fits ${sc.width} px without scrolling sideways`, `${f.overflow} px too wide`);
		const file = path.join(sc.shots, `${sc.name}-${String(++shotNo).padStart(2, '0')}-${what.replace(/[^a-z0-9]+/gi, '-')}.png`);
		await page.screenshot({ path: file, fullPage: true });
	}

	async function submitAndWait(selector) {
		await Promise.all([page.waitForNavigation(), page.click(selector)]);
	}

	for (const st of sc.steps) {
		if (st.do === 'upload' || st.do === 'paste') {
			await page.goto(`${sc.base}/upload`);
			await inspect('upload form', 200);
			if (st.do === 'upload')
				await page.setInputFiles('#keyfile', st.file);
			else
				await page.fill('#keytext', fs.readFileSync(st.file, 'utf8'));
			await submitAndWait('form[action="/upload"] button[type="submit"]');
			await inspect('upload done', 200);
			const text = await page.textContent('main');
			check(/Key uploaded/.test(text), `${st.do}: the page says the key was uploaded`, text);
			check(/a confirmation mail was sent/.test(text), `${st.do}: and that a mail was sent`, text);
		} else if (st.do === 'confirm') {
			let link = '';
			try {
				link = execFileSync('sh', ['-c', `${sc.link_cmd} "$1" verify`, 'sh', st.address], { encoding: 'utf8' }).trim();
			} catch (e) {
				link = '';
			}
			if (!check(link.startsWith(`${sc.base}/verify/`), `confirm: the mailed link for ${st.address}`, link))
				continue;
			await page.goto(link);
			await inspect('verify page', 200);
			check((await page.textContent('h1')).includes(st.address), 'confirm: the page names the address');
			await submitAndWait('button[type="submit"]');
			await inspect('confirmed', 200);
			check(/Address confirmed/.test(await page.textContent('h1')), 'confirm: the address is confirmed');
		} else if (st.do === 'search') {
			await page.goto(`${sc.base}/`);
			await inspect('start page', 200);
			await page.fill('#q', st.address);
			await submitAndWait('form[role="search"] button[type="submit"]');
			await inspect('search results', 200);
			const grouped = st.fpr.replace(/(.{4})(?!$)/g, '$1 ');
			const text = await page.textContent('main');
			check(text.includes(grouped), 'search: the key, its fingerprint in blocks of four', text);
			check(text.includes(st.address), 'search: the confirmed address');
			await submitAndWait(`a[href="/key/${st.fpr}"]`);
			await inspect('key page', 200);
			const armor = await page.textContent('pre.armor');
			check(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/.test(armor), 'key page: the armored key');
			const dl = await page.getAttribute('a[download]', 'href');
			check(dl === `/key/${st.fpr}.asc`, 'key page: a download link', dl);
			const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[download]')]);
			const saved = path.join(sc.shots, `${sc.name}-${st.fpr}.asc`);
			await download.saveAs(saved);
			check(fs.readFileSync(saved, 'utf8') === armor, 'key page: the download is the shown key');
			const copy = await page.$$('button.secondary');
			if (sc.js !== false) {
				check(copy.length === 1, 'key page: a copy button (JavaScript on)');
				if (copy.length) {
					await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
					await copy[0].click();
					await page.waitForSelector('text=Copied.', { timeout: 3000 }).catch(() => {});
					const clip = await page.evaluate(() => navigator.clipboard.readText()).catch((e) => `error ${e}`);
					check(clip === armor, 'key page: the copy button copies the key', clip.slice(0, 80));
				}
			} else {
				check(copy.length === 0, 'key page: no copy button without JavaScript (the key is still there)');
			}
		} else if (st.do === 'hostile') {
			await page.goto(`${sc.base}/search?q=${encodeURIComponent(st.address)}`);
			await inspect('hostile user ID', 200);
			const text = await page.textContent('main');
			check(text.includes(st.text), 'hostile: the user ID is shown as text', text);
			const injected = await page.evaluate(() => document.querySelectorAll('main script, main img, main [onerror]').length);
			check(injected === 0, 'hostile: no element made from it');
			check(dialogs.length === 0, 'hostile: nothing ran', dialogs.join(' | '));
		} else if (st.do === 'visit') {
			await page.goto(`${sc.base}${st.path}`);
			await inspect(`page ${st.path}`, st.status);
			if (st.expect)
				check((await page.textContent('main')).includes(st.expect), `page ${st.path}: says "${st.expect}"`);
		} else if (st.do === 'form') {
			await page.goto(`${sc.base}${st.path}`);
			await inspect(`form ${st.path}`, 200);
			for (const [sel, text] of Object.entries(st.fill || {}))
				await page.fill(sel, text);
			for (const [sel, file] of Object.entries(st.file || {}))
				await page.setInputFiles(sel, file);
			for (const sel of st.check || [])
				await page.check(sel);
			await submitAndWait(st.submit || 'main form[method="post"] button[type="submit"]');
			await inspect(`${st.path} sent`, st.status === undefined ? 200 : st.status);
			if (st.expect)
				check((await page.textContent('main')).includes(st.expect), `form ${st.path}: says "${st.expect}"`,
				      await page.textContent('main'));
		} else if (st.do === 'mailed') {
			let link = '';
			try {
				link = execFileSync('sh', ['-c', `${sc.link_cmd} "$1" "$2"`, 'sh', st.address, st.kind],
						    { encoding: 'utf8' }).trim();
			} catch (e) {
				link = '';
			}
			if (!check(link.startsWith(`${sc.base}/${st.kind}/`), `the mailed ${st.kind} link for ${st.address}`, link))
				continue;
			await page.goto(link);
			await inspect(`${st.kind} link`, 200);
			if (st.expect)
				check((await page.textContent('main')).includes(st.expect), `${st.kind} link: says "${st.expect}"`,
				      await page.textContent('main'));
			for (const sel of st.check || [])
				await page.check(sel);
			if (st.submit) {
				await submitAndWait(st.submit);
				await inspect(`${st.kind} link sent`, st.status === undefined ? 200 : st.status);
				if (st.after)
					check((await page.textContent('main')).includes(st.after), `${st.kind} link: then says "${st.after}"`,
					      await page.textContent('main'));
			}
		} else if (st.do === 'formless') {
			// A form whose hidden token is removed before sending: refused, with what to do.
			await page.goto(`${sc.base}${st.path}`);
			documents.length = 0;
			await page.evaluate(() => {
				for (const i of document.querySelectorAll('input[name="form_token"]')) i.remove();
				const t = document.querySelector('#keytext');
				if (t) t.value = 'not a key';
				// required fields filled, so that the browser sends the form at all
				for (const i of document.querySelectorAll('main form[method="post"] [required]'))
					if (!i.value) i.value = i.type === 'email' ? 'nobody@example.org' : 'x';
			});
			if (sc.js === false) {
				// without JavaScript evaluate() still runs (it is the test's, not the page's)
			}
			await submitAndWait(`main form[method="post"] button[type="submit"]`);
			await inspect(`POST ${st.path} without form token`, 403);
			const text = await page.textContent('main');
			check(/nothing was done/.test(text) && /Open the form again/.test(text), `POST ${st.path} without token: says what to do`, text);
		}
	}
	check(outside.length === 0, 'no request left the server', outside.join('\n'));
	check(cspErrors.length === 0, 'no CSP violation or script error', cspErrors.join('\n'));
	await browser.close();
}

main().catch((e) => {
	check(false, 'the browser run finished', e.stack || e);
	process.exit(0);
});
