#!/usr/bin/python3
"""Walks the Tessera console in headless Chromium, as a user would.

Run by tests/integration/console_test.cc against a real stack (PostgreSQL, worker, nginx):

  console_walk.py --url http://127.0.0.1:PORT/ --user alice@pbs --password pw \
      --new-password '...' --screens BUILD/console-screens --restic restic --storage STORAGE_DIR

Steps: sign in; the repositories screen (empty); mint a token (read+write, one repository), shown
once with a restic command and a Copy button that puts the command on the clipboard (read back
through a clipboard permission granted over CDP); it is listed; the real restic, given the
command exactly as shown, makes the repository and one snapshot, and after a reload the
repositories screen shows it with the size and counts that GET /api2/json/repos and the storage
directory (--storage) agree on; revoke it; with the keyboard alone (Tab, Shift+Tab, Enter, Space
and typing) mint a token and revoke it; change the password (still signed in; a mismatch or a
wrong current password is reported in the aria-live region); reload (the session resumes); sign
out; sign in with the new password; a session the server no longer honours (its cookie gone)
leads back to sign-in; the same screens at 360 px wide without horizontal scrolling. After every
step: the ticket is never visible to scripts (document.cookie has no PBSAuthCookie), and the
browser's console shows no Content-Security-Policy violation and no script error. A screenshot
of each screen goes to --screens as NN-name.png.

A failing step does not stop the walk: later steps that need it are skipped, the others run, and
the summary at the end names every step with ok / FAIL / skipped. Requests the API answered with
an error (for example 404 from an endpoint that does not exist yet) are listed too. Exit status:
0 when every step passed and nothing was refused, 1 otherwise, 2 when the browser did not start.

Needs Debian's python3-selenium, chromium, chromium-driver and restic; uses
/usr/bin/chromedriver.
"""

import argparse
import decimal
import glob
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import traceback

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException,
                                        StaleElementReferenceException, TimeoutException)
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 15
WIDE = (1280, 1000)
NARROW = (360, 800)
RESTIC_SECONDS = 120
# Random bytes do not compress or deduplicate: the repository holds at least this many.
SOURCE_BYTES = 256 * 1024
OBJECT_NAME = re.compile(r'^[0-9a-f]{64}$')
COPIED = 'The restic command is on the clipboard.'


def format_bytes(n):
    """console.js's formatBytes: toFixed rounds half up, as Decimal's ROUND_HALF_UP does."""
    units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
    i, v = 0, decimal.Decimal(n)
    while v >= 1024 and i < len(units) - 1:
        v /= 1024
        i += 1
    if i == 0:
        return '%d B' % n
    places = decimal.Decimal('0.1') if v < 10 else decimal.Decimal('1')
    return '%s %s' % (v.quantize(places, rounding=decimal.ROUND_HALF_UP), units[i])


class StepFailed(Exception):
    pass


class Walk:
    def __init__(self, args):
        self.args = args
        self.url = args.url.rstrip('/') + '/'
        self.results = []  # (name, 'ok' | 'FAIL' | 'skipped', detail)
        self.passed = set()
        self.failed_requests = []  # (step, console message)
        self.shots = 0
        self.token = None
        self.command = None  # the restic command the console showed with the token
        self.snapshot_id = None
        self.backed_up_at = None  # when the backup started, by this machine's clock
        self.work = tempfile.mkdtemp(prefix='console-walk-restic-')
        self.profile = tempfile.mkdtemp(prefix='console-walk-chromium-')
        self.current = 'start'
        os.makedirs(args.screens, exist_ok=True)
        opts = Options()
        opts.binary_location = '/usr/bin/chromium'
        for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                  '--no-first-run', '--no-default-browser-check', '--lang=en-US',
                  '--window-size=%d,%d' % WIDE,
                  '--user-data-dir=' + self.profile):
            opts.add_argument(a)
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        self.driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=opts)
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(30)

    # ---- helpers ----

    def wait(self, condition, what, seconds=WAIT_SECONDS):
        try:
            # The console re-renders lists after each call: an element found a moment ago may be
            # replaced while the condition reads it. Look again rather than fail.
            return WebDriverWait(self.driver, seconds,
                                 ignored_exceptions=(NoSuchElementException,
                                                     StaleElementReferenceException)).until(
                lambda d: condition())
        except TimeoutException:
            raise StepFailed('timed out waiting for ' + what + '; the page says: ' + self.message())

    def el(self, element_id):
        return self.driver.find_element(By.ID, element_id)

    def visible(self, element_id):
        elements = self.driver.find_elements(By.ID, element_id)
        return bool(elements) and elements[0].is_displayed()

    def message(self):
        found = self.driver.find_elements(By.ID, 'message')
        return repr(found[0].text) if found else '(no #message)'

    def fill(self, element_id, text):
        e = self.el(element_id)
        e.clear()
        e.send_keys(text)

    def shot(self, name):
        self.shots += 1
        path = os.path.join(self.args.screens, '%02d-%s.png' % (self.shots, name))
        self.driver.save_screenshot(path)
        return path

    def fetch_status(self, path):
        """The status of a same-origin GET made by the page itself (with its cookies)."""
        return self.driver.execute_async_script(
            'const done = arguments[arguments.length - 1];'
            'fetch(arguments[0], {credentials: "same-origin", cache: "no-store"})'
            '.then(r => done(r.status), e => done(-1));', path)

    def fetch_json(self, path):
        """The `data` of a same-origin GET made by the page itself; fails unless 200."""
        status, text = self.driver.execute_async_script(
            'const done = arguments[arguments.length - 1];'
            'fetch(arguments[0], {credentials: "same-origin", cache: "no-store"})'
            '.then(r => r.text().then(t => done([r.status, t])), e => done([-1, String(e)]));',
            path)
        if status != 200:
            raise StepFailed('GET %s from the page answered %s: %s' % (path, status, text[:300]))
        return json.loads(text)['data']

    def clipboard(self, write=None):
        """Reads the clipboard as the page sees it (after writing `write`, if given)."""
        result = self.driver.execute_async_script(
            'const done = arguments[arguments.length - 1];'
            'const write = arguments[0] === null ? Promise.resolve()'
            '    : navigator.clipboard.writeText(arguments[0]);'
            'write.then(() => navigator.clipboard.readText())'
            '.then(t => done({text: t}), e => done({error: String(e)}));', write)
        if 'error' in result:
            raise StepFailed('the page could not use the clipboard: ' + result['error'])
        return result['text']

    # Keyboard only: key presses go to whatever has the focus, as a person's would.

    def press(self, *keys):
        ActionChains(self.driver).send_keys(*keys).perform()

    def press_shift_tab(self):
        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(
            Keys.SHIFT).perform()

    def focused(self):
        """The focused element as (id, tag, aria-label)."""
        return tuple(self.driver.execute_script(
            'const e = document.activeElement;'
            'return [e.id || "", e.tagName.toLowerCase(), e.getAttribute("aria-label") || ""];'))

    def tab_to(self, want, what, backwards=False, limit=40):
        """Presses Tab (Shift+Tab backwards) until want(focused()) holds, at most `limit` times."""
        route = []
        for _ in range(limit):
            if backwards:
                self.press_shift_tab()
            else:
                self.press(Keys.TAB)
            f = self.focused()
            route.append(f[0] or '%s%s' % (f[1], '[%s]' % f[2] if f[2] else ''))
            if want(f):
                return
        raise StepFailed('%s %d times never reached %s: %s' % (
            'Shift+Tab' if backwards else 'Tab', limit, what, ' > '.join(route)))

    def tab_next(self, element_id):
        """One Tab must move the focus to `element_id`: the form's order is part of the test."""
        self.press(Keys.TAB)
        f = self.focused()
        if f[0] != element_id:
            raise StepFailed('Tab went to %r, not to #%s' % (f, element_id))

    def repo_dir(self, repo):
        """The repository's directory in the worker's storage (<storage>/<account id>/<repo>)."""
        found = glob.glob(os.path.join(glob.escape(self.args.storage), '*', repo))
        if len(found) != 1:
            raise StepFailed('not one directory for %r in the storage: %r' % (repo, found))
        return found[0]

    def disk_usage(self, repo):
        """(bytes, objects, snapshots) of the repository's objects on disk, counted here."""
        base = self.repo_dir(repo)
        size = objects = snapshots = 0
        if os.path.isfile(os.path.join(base, 'config')):
            size += os.lstat(os.path.join(base, 'config')).st_size
            objects += 1
        dirs = ['keys', 'locks', 'snapshots', 'index'] + ['data/%02x' % i for i in range(256)]
        for d in dirs:
            path = os.path.join(base, d)
            if not os.path.isdir(path):
                continue
            for name in os.listdir(path):
                st = os.lstat(os.path.join(path, name))
                if OBJECT_NAME.match(name) and stat.S_ISREG(st.st_mode):
                    size += st.st_size
                    objects += 1
                    snapshots += d == 'snapshots'
        return size, objects, snapshots

    def check_page(self):
        """Checks that hold after every step: no readable ticket, no CSP violation or error."""
        cookies = self.driver.execute_script('return document.cookie;')
        if 'PBSAuthCookie' in cookies:
            raise StepFailed('document.cookie shows the ticket cookie: ' + cookies)
        problems = []
        for entry in self.driver.get_log('browser'):
            text = entry.get('message', '')
            level = entry.get('level', '')
            if 'Content Security Policy' in text or 'Refused to' in text:
                problems.append('CSP violation: ' + text)
            elif 'Failed to load resource' in text:
                self.failed_requests.append((self.current, text))
            elif level == 'SEVERE':
                problems.append('browser console error: ' + text)
            else:
                print('  browser console (%s): %s' % (level, text))
        if problems:
            raise StepFailed('; '.join(problems))

    def no_horizontal_scroll(self, where):
        self.driver.set_window_size(*NARROW)
        try:
            # Until the page has taken the new width (3 s at most; the check below says if not).
            deadline = time.monotonic() + 3
            while True:
                sizes = self.driver.execute_script(
                    'return [document.documentElement.scrollWidth, window.innerWidth];')
                if sizes[1] <= NARROW[0] or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            self.shot('narrow-' + where)
            if sizes[1] > NARROW[0]:
                raise StepFailed('the window did not get narrow: innerWidth %d' % sizes[1])
            if sizes[0] > sizes[1]:
                raise StepFailed('%s scrolls sideways at %d px: scrollWidth %d > innerWidth %d' %
                                 (where, NARROW[0], sizes[0], sizes[1]))
        finally:
            self.driver.set_window_size(*WIDE)

    def step(self, name, fn, needs=()):
        missing = [n for n in needs if n not in self.passed]
        if missing:
            self.results.append((name, 'skipped', 'needs ' + ', '.join(missing)))
            print('-- %s: skipped (needs %s)' % (name, ', '.join(missing)))
            return
        self.current = name
        print('-- ' + name)
        try:
            fn()
            self.check_page()
        except Exception as e:  # noqa: BLE001 — every failure is reported, the walk goes on
            detail = str(e) if isinstance(e, StepFailed) else traceback.format_exc(limit=3)
            try:
                self.shot(name + '-failed')
                self.check_page()
            except Exception as more:  # noqa: BLE001
                detail += ' (also: %s)' % more
            self.results.append((name, 'FAIL', detail.strip()))
            print('   FAIL: ' + detail.strip())
            return
        self.passed.add(name)
        self.results.append((name, 'ok', ''))

    def sign_in(self, password, by_keyboard=False):
        self.wait(lambda: self.visible('signin-screen'), 'the sign-in screen')
        self.fill('signin-user', self.args.user)
        self.fill('signin-password', password)
        if by_keyboard:
            self.el('signin-password').send_keys(Keys.ENTER)
        else:
            self.el('signin-submit').click()
        self.wait(lambda: self.visible('overview-screen') or 'failed' in self.message(),
                  'the overview after signing in')
        if not self.visible('overview-screen'):
            raise StepFailed('sign-in refused: ' + self.message())
        who = self.el('session-user').text
        if who != self.args.user:
            raise StepFailed('signed in as %r, expected %r' % (who, self.args.user))
        status = self.fetch_status('/api2/json/access/whoami')
        if status != 200:
            raise StepFailed('whoami from the page answered %s: the browser did not keep or send '
                             'the __Host-PBSAuthCookie cookie' % status)

    # ---- the steps ----

    def load(self):
        self.driver.get(self.url)
        self.wait(lambda: self.visible('signin-screen'), 'the sign-in screen')
        if self.driver.execute_script('return document.activeElement.id') != 'signin-user':
            raise StepFailed('the user name field does not have the focus')
        self.shot('signin')

    def first_sign_in(self):
        self.sign_in(self.args.password)
        cookies = {c['name']: c for c in self.driver.get_cookies()}
        c = cookies.get('__Host-PBSAuthCookie')
        if c is None:
            raise StepFailed('no __Host-PBSAuthCookie in the browser: ' + ', '.join(cookies))
        if not c.get('httpOnly') or not c.get('secure'):
            raise StepFailed('the ticket cookie is not HttpOnly and Secure: %r' %
                             {k: c.get(k) for k in ('httpOnly', 'secure', 'sameSite', 'path')})
        for store in ('localStorage', 'sessionStorage'):
            dump = self.driver.execute_script(
                'return JSON.stringify(Object.assign({}, window[arguments[0]]));', store)
            if 'CSRF' in dump or '::' in dump.replace('::ticketinfo', ''):
                raise StepFailed('%s holds a secret: %s' % (store, dump))
        self.shot('overview')

    def repositories(self):
        self.wait(lambda: self.el('repos-state').text != 'Loading…', 'the repositories to load')
        state = self.el('repos-state')
        if 'error' in (state.get_attribute('class') or ''):
            raise StepFailed('the repositories did not load: ' + state.text)
        # Nothing is backed up yet: the state says so and the table is hidden.
        if not state.text.startswith('No repositories yet') or self.visible('repos-table'):
            raise StepFailed('before any backup the repositories show %r' % state.text)
        self.shot('repositories')

    def mint(self):
        self.wait(lambda: self.el('tokens-state').text != 'Loading…', 'the tokens to load')
        self.fill('mint-name', 'walk-token')
        if not self.el('mint-read').is_selected():
            self.el('mint-read').click()
        if not self.el('mint-write').is_selected():
            self.el('mint-write').click()
        if self.el('mint-delete').is_selected():
            self.el('mint-delete').click()
        self.fill('mint-repo', 'walk')
        self.fill('mint-days', '30')
        self.el('mint-submit').click()
        self.wait(lambda: self.visible('minted') or 'Could not' in self.message(),
                  'the new token')
        if not self.visible('minted'):
            raise StepFailed('no token shown: ' + self.message())
        token = self.el('minted-token').text.strip()
        command = self.driver.execute_script(
            'return document.getElementById("minted-command").textContent;')
        if not token.startswith('v4.public.'):
            raise StepFailed('the token shown is not a PASETO v4.public token: %r' % token[:20])
        host = self.driver.execute_script('return location.host;')
        proto = self.driver.execute_script('return location.protocol;')
        user = self.args.user.replace('@', '%40')
        want = "export RESTIC_REPOSITORY='rest:%s//%s:%s@%s/backup/walk/'" % (proto, user, token,
                                                                             host)
        if want not in command:
            raise StepFailed('the restic command is not %r but %r' % (want, command))
        copy = self.el('minted-copy')
        if copy.tag_name != 'button':
            raise StepFailed('Copy is not a button')
        self.token = token
        self.command = command
        self.shot('token-minted')
        # Headless Chromium lets a page read the clipboard only when granted; with the grant the
        # walk reads back what Copy put there. A sentinel written first proves Copy replaced it.
        self.driver.execute_cdp_cmd('Browser.grantPermissions', {
            'origin': self.driver.execute_script('return location.origin;'),
            'permissions': ['clipboardReadWrite', 'clipboardSanitizedWrite']})
        if self.clipboard(write='not the restic command') != 'not the restic command':
            raise StepFailed('the clipboard does not hold what the walk wrote to it')
        copy.click()
        self.wait(lambda: 'clipboard' in self.message() or 'copy it' in self.message(),
                  'the copy to be confirmed')
        said = self.el('message')
        if said.text != COPIED or 'error' in (said.get_attribute('class') or ''):
            raise StepFailed('Copy said %r (class %r), not %r' % (
                said.text, said.get_attribute('class'), COPIED))
        pasted = self.clipboard()
        if pasted != command:
            raise StepFailed('the clipboard holds %r, not the command shown %r' % (pasted, command))
        self.shot('command-copied')
        self.no_horizontal_scroll('token-minted')

    def listed(self):
        self.wait(lambda: self.driver.find_elements(
            By.CSS_SELECTOR, '#tokens-body tr[data-token="walk-token"]'), 'the token in the list')
        row = self.driver.find_element(By.CSS_SELECTOR, '#tokens-body tr[data-token="walk-token"]')
        if row.get_attribute('data-status') != 'active':
            raise StepFailed('the new token is listed as ' + row.get_attribute('data-status'))
        cells = row.text
        for want in ('read, write', 'walk'):
            if want not in cells:
                raise StepFailed('the token row %r lacks %r' % (cells, want))
        if not row.find_elements(By.CSS_SELECTOR, 'button.revoke'):
            raise StepFailed('the live token has no Revoke button')
        # Shown once: after Done, the token is nowhere in the page.
        self.el('minted-done').click()
        if self.visible('minted') or self.token in self.driver.page_source:
            raise StepFailed('the token is still in the page after Done')

    def restic_backup(self):
        """restic, given the command the console showed, makes a repository and a snapshot."""
        restic = shutil.which(self.args.restic)
        if restic is None:
            raise StepFailed('no restic binary %r on PATH' % self.args.restic)
        lines = self.command.split('\n')
        if len(lines) != 2 or not lines[0].startswith('export RESTIC_REPOSITORY=') or \
                lines[1] != 'restic snapshots':
            raise StepFailed('the command is not an export and "restic snapshots": %r' %
                             self.command)
        source = os.path.join(self.work, 'source')
        os.makedirs(source)
        with open(os.path.join(source, 'random.bin'), 'wb') as f:
            f.write(os.urandom(SOURCE_BYTES))
        with open(os.path.join(source, 'note.txt'), 'w') as f:
            f.write('backed up by the console walk\n')
        env = dict(os.environ, RESTIC_PASSWORD='the walk repository password',
                   RESTIC_CACHE_DIR=os.path.join(self.work, 'cache'), HOME=self.work,
                   PATH=os.path.dirname(restic) + os.pathsep + os.environ.get('PATH', ''))

        def sh(script):
            try:
                r = subprocess.run(['sh', '-ec', script], env=env, capture_output=True,
                                   text=True, timeout=RESTIC_SECONDS)
            except subprocess.TimeoutExpired:
                raise StepFailed('restic took over %d s: %s' % (RESTIC_SECONDS, script))
            if r.returncode != 0:
                raise StepFailed('exit status %d from\n%s\n%s' % (r.returncode, script,
                                                                   r.stderr[-2000:]))
            return r.stdout

        sh(lines[0] + '\nrestic init')
        self.backed_up_at = time.time()
        out = sh(lines[0] + '\nrestic backup --json ' + shlex.quote(source))
        summaries = [m for m in (json.loads(l) for l in out.splitlines() if l.startswith('{'))
                     if m.get('message_type') == 'summary']
        if len(summaries) != 1 or not summaries[0].get('snapshot_id'):
            raise StepFailed('restic backup gave no snapshot: ' + out[-500:])
        self.snapshot_id = summaries[0]['snapshot_id']
        # The command exactly as shown lists that snapshot and no other.
        listed = sh(self.command)
        if self.snapshot_id[:8] not in listed or '1 snapshots' not in listed:
            raise StepFailed('the command shown did not list snapshot %s:\n%s' %
                             (self.snapshot_id[:8], listed))

    def repository_usage(self):
        """After a reload the repository restic made is shown with what it holds."""
        self.driver.refresh()
        self.wait(lambda: self.visible('overview-screen'), 'the overview after the reload')
        self.wait(lambda: any(c.text == 'walk' for c in self.driver.find_elements(
            By.CSS_SELECTOR, '#repos-body td[data-label="Repository"]')), 'the walk repository')
        rows = [r for r in self.driver.find_elements(By.CSS_SELECTOR, '#repos-body tr')
                if r.find_element(By.CSS_SELECTOR, 'td[data-label="Repository"]').text == 'walk']
        if len(rows) != 1 or not self.visible('repos-table'):
            raise StepFailed('the walk repository is not one visible row: %d rows' % len(rows))
        shown = {c.get_attribute('data-label'): c.text
                 for c in rows[0].find_elements(By.TAG_NAME, 'td')}
        listed = [r for r in self.fetch_json('/api2/json/repos') if r['repo'] == 'walk']
        if len(listed) != 1:
            raise StepFailed('GET /api2/json/repos lists walk %d times' % len(listed))
        api = listed[0]
        disk = self.disk_usage('walk')
        print('   walk: shown %r; API %r; on disk (bytes, objects, snapshots) %r' %
              (shown, api, disk))
        problems = []
        if (api['bytes'], api['objects'], api['snapshots']) != disk:
            problems.append('the API says %r, the disk holds %r' %
                            ((api['bytes'], api['objects'], api['snapshots']), disk))
        if api['snapshots'] != 1:
            problems.append('%r snapshots, restic made 1' % api['snapshots'])
        if not SOURCE_BYTES < api['bytes'] < SOURCE_BYTES + 1024 * 1024:
            problems.append('%r bytes for %d random bytes backed up' % (api['bytes'],
                                                                       SOURCE_BYTES))
        last = api['last_snapshot']
        if not isinstance(last, int) or not self.backed_up_at - 2 <= last <= time.time() + 2:
            problems.append('last snapshot at %r, the backup ran just now' % (last,))
        want = {'Repository': 'walk', 'Size': format_bytes(api['bytes']),
                'Objects': str(api['objects']), 'Snapshots': '1',
                'Last snapshot': time.strftime('%Y-%m-%d %H:%M', time.localtime(last or 0))}
        if shown != want:
            problems.append('the row shows %r, not %r' % (shown, want))
        # The account's usage against its quota and repository cap, as bars (<meter>) and text.
        usage = self.fetch_json('/api2/json/usage')
        if (usage['bytes'], usage['quota_bytes'], usage['repos'], usage['repo_max_count']) != (
                api['bytes'], self.args.quota, 1, self.args.repo_cap):
            problems.append('GET /api2/json/usage says %r' % (usage,))
        quota, cap = self.args.quota, self.args.repo_cap
        gauges = {
            'usage-bytes': (api['bytes'], quota, '%s of %s (%d %%)' % (
                format_bytes(api['bytes']), format_bytes(quota),
                min(100, int(decimal.Decimal(100 * api['bytes']) / quota + decimal.Decimal('0.5'))))),
            'usage-repos': (1, cap, '1 of %d' % cap),
        }
        for meter, (value, bound, text) in gauges.items():
            if not self.visible(meter):
                problems.append('the %s bar is not shown' % meter)
            got = (float(self.el(meter).get_attribute('value')),
                   float(self.el(meter).get_attribute('max')), self.el(meter + '-text').text)
            if got != (float(value), float(bound), text):
                problems.append('%s shows %r, not %r' % (meter, got, (value, bound, text)))
        if problems:
            raise StepFailed('; '.join(problems))
        self.driver.execute_script('arguments[0].scrollIntoView();', self.el('repos-title'))
        self.shot('repository-usage')

    def keyboard(self):
        """Tab, Shift+Tab, Enter, Space and typing alone mint a token and revoke it."""
        sel = '#tokens-body tr[data-token="kbd-token"]'
        # Start where the console puts the focus after signing in.
        self.driver.execute_script('document.getElementById("overview-title").focus();')
        if self.focused()[0] != 'overview-title':
            raise StepFailed('could not start at #overview-title')
        self.tab_to(lambda f: f[0] == 'mint-name', '#mint-name')
        self.press('kbd-token')
        self.tab_next('mint-read')  # checked by default: left as it is
        self.tab_next('mint-write')
        self.press(Keys.SPACE)
        self.tab_next('mint-delete')
        self.tab_next('mint-repo')
        self.press('kbd')
        # The date field's parts (month, day, year, the picker) each take a Tab.
        self.tab_to(lambda f: f[0] == 'mint-days', '#mint-days', limit=8)
        self.press('7')
        self.tab_next('mint-submit')
        form = {i: self.driver.execute_script(
            'const e = document.getElementById(arguments[0]);'
            'return e.type === "checkbox" ? e.checked : e.value;', i)
            for i in ('mint-name', 'mint-read', 'mint-write', 'mint-delete', 'mint-repo',
                      'mint-date', 'mint-days')}
        want = {'mint-name': 'kbd-token', 'mint-read': True, 'mint-write': True,
                'mint-delete': False, 'mint-repo': 'kbd', 'mint-date': '', 'mint-days': '7'}
        if form != want:
            raise StepFailed('the keyboard filled the form as %r, not %r' % (form, want))
        asked_at = time.time()
        self.press(Keys.ENTER)
        self.wait(lambda: self.visible('minted') or 'Could not' in self.message(),
                  'the token made by keyboard')
        if not self.visible('minted') or self.el('minted-name').text != 'kbd-token':
            raise StepFailed('no kbd-token shown: ' + self.message())
        if self.focused()[0] != 'minted-title':
            raise StepFailed('after creating, the focus is on %r, not #minted-title' %
                             (self.focused(),))
        self.shot('keyboard-minted')
        self.wait(lambda: self.driver.find_elements(By.CSS_SELECTOR, sel),
                  'kbd-token in the list')
        grants = [g for g in self.fetch_json('/api2/json/access/tokens')
                  if g['name'] == 'kbd-token']
        if len(grants) != 1:
            raise StepFailed('kbd-token is listed %d times by the API' % len(grants))
        g = grants[0]
        got = (g['read'], g['write'], g['delete'], g['repo'], g['revoked'])
        if got != (True, True, False, 'kbd', None):
            raise StepFailed('kbd-token is (read, write, delete, repo, revoked) %r' % (got,))
        if abs(g['expire'] - (asked_at + 7 * 86400)) > 120:
            raise StepFailed('kbd-token expires at %r, not in 7 days' % g['expire'])
        # Done, then back up to the token's Revoke button.
        self.tab_next('minted-copy')
        self.tab_next('minted-done')
        self.press(Keys.ENTER)
        self.wait(lambda: not self.visible('minted'), 'Done to hide the token')
        if self.focused()[0] != 'mint-name':
            raise StepFailed('after Done, the focus is on %r, not #mint-name' % (self.focused(),))
        self.tab_to(lambda f: f[1] == 'button' and f[2] == 'Revoke token kbd-token',
                    'the Revoke button of kbd-token', backwards=True)
        self.press(Keys.SPACE)
        self.wait(lambda: self.driver.find_element(By.CSS_SELECTOR, sel)
                  .get_attribute('data-status') == 'revoked' or 'Could not' in self.message(),
                  'kbd-token to show as revoked')
        status = self.driver.find_element(By.CSS_SELECTOR, sel).get_attribute('data-status')
        if status != 'revoked':
            raise StepFailed('after Space on Revoke, kbd-token is %s: %s' % (status,
                                                                            self.message()))
        revoked = [g for g in self.fetch_json('/api2/json/access/tokens')
                   if g['name'] == 'kbd-token']
        if not isinstance(revoked[0]['revoked'], int):
            raise StepFailed('the API does not list kbd-token as revoked: %r' % revoked[0])
        self.shot('keyboard-revoked')
        # The Revoke button is gone with its row; console.js then focuses #tokens-title, so that
        # the keyboard goes on from the list rather than from the top of the page.
        if self.focused()[0] != 'tokens-title':
            raise StepFailed('after revoking, the focus is on %r, not #tokens-title' %
                             (self.focused(),))

    def revoke(self):
        sel = '#tokens-body tr[data-token="walk-token"]'
        self.driver.find_element(By.CSS_SELECTOR, sel + ' button.revoke').click()
        self.wait(lambda: self.driver.find_element(By.CSS_SELECTOR, sel)
                  .get_attribute('data-status') == 'revoked' or 'Could not' in self.message(),
                  'the token to show as revoked')
        status = self.driver.find_element(By.CSS_SELECTOR, sel).get_attribute('data-status')
        if status != 'revoked':
            raise StepFailed('after Revoke the token is %s: %s' % (status, self.message()))
        if self.driver.find_elements(By.CSS_SELECTOR, sel + ' button.revoke'):
            raise StepFailed('a revoked token still has a Revoke button')
        self.driver.execute_script('arguments[0].scrollIntoView();', self.el('tokens-title'))
        self.shot('token-revoked')

    def password_errors(self):
        """Mistakes are shown in the live region, and the session goes on."""
        if self.el('message').get_attribute('aria-live') not in ('polite', 'assertive'):
            raise StepFailed('#message is not an aria-live region')
        self.fill('password-current', self.args.password)
        self.fill('password-new', self.args.new_password)
        self.fill('password-confirm', self.args.new_password + 'x')
        self.el('password-submit').click()
        self.wait(lambda: 'differ' in self.message(), 'the mismatch to be reported')
        self.check_page()
        self.fill('password-current', self.args.password + '-wrong')
        self.fill('password-confirm', self.args.new_password)
        self.el('password-submit').click()
        self.wait(lambda: 'Could not change the password' in self.message(),
                  'the wrong current password to be reported')
        # The API's refusal (403) was the point: not a refused request of the walk.
        refused = False
        for entry in self.driver.get_log('browser'):
            text = entry.get('message', '')
            if '/api2/json/access/password' in text and 'status of 403' in text:
                refused = True
            else:
                self.failed_requests.append((self.current, text))
        if not refused:
            raise StepFailed('the wrong current password was not refused with 403: ' +
                             self.message())
        if not self.visible('overview-screen') or \
                self.fetch_status('/api2/json/access/whoami') != 200:
            raise StepFailed('a wrong current password ended the session')
        self.shot('password-error')

    def change_password(self):
        self.fill('password-current', self.args.password)
        self.fill('password-new', self.args.new_password)
        self.fill('password-confirm', self.args.new_password)
        self.el('password-submit').click()
        self.wait(lambda: 'Password changed' in self.message() or 'Could not' in self.message(),
                  'the password change')
        if 'Password changed' not in self.message():
            raise StepFailed('password not changed: ' + self.message())
        if not self.visible('overview-screen'):
            raise StepFailed('signed out by the password change')
        if self.fetch_status('/api2/json/access/whoami') != 200:
            raise StepFailed('the session did not survive the password change')
        self.shot('password-changed')

    def reload_resumes(self):
        self.driver.refresh()
        self.wait(lambda: self.visible('overview-screen') or self.visible('signin-screen'),
                  'a screen after the reload')
        self.wait(lambda: self.visible('overview-screen'), 'the overview after the reload')
        if self.el('session-user').text != self.args.user:
            raise StepFailed('after the reload the console shows another user')

    def sign_out(self):
        self.el('signout').click()
        self.wait(lambda: self.visible('signin-screen'), 'the sign-in screen after signing out')
        if 'Signed out' not in self.message():
            raise StepFailed('sign-out reported: ' + self.message())
        self.check_page()
        status = self.fetch_status('/api2/json/access/whoami')
        if status != 401:
            raise StepFailed('after signing out whoami answers %s, not 401' % status)
        # That 401 was the point: the browser's note of it is no refused request.
        for entry in self.driver.get_log('browser'):
            if '/api2/json/access/whoami' not in entry.get('message', '') or \
                    'status of 401' not in entry.get('message', ''):
                self.failed_requests.append((self.current, entry.get('message', '')))
        self.shot('signed-out')
        self.no_horizontal_scroll('signin')

    def sign_in_new(self):
        self.sign_in(self.args.new_password, by_keyboard=True)
        self.shot('signed-in-new-password')
        self.no_horizontal_scroll('overview')

    def sign_in_old(self):
        self.sign_in(self.args.password, by_keyboard=True)
        self.shot('signed-in-again')
        self.no_horizontal_scroll('overview')

    def final_sign_out(self):
        self.el('signout').click()
        self.wait(lambda: self.visible('signin-screen'), 'the sign-in screen')

    def lost_session(self):
        """A session the server no longer honours sends the console back to sign-in."""
        self.sign_in(self.args.new_password if 'change password' in self.passed
                     else self.args.password)
        self.check_page()
        self.driver.delete_cookie('__Host-PBSAuthCookie')
        self.fill('mint-name', 'after-the-session')
        self.el('mint-submit').click()
        self.wait(lambda: self.visible('signin-screen'), 'the sign-in screen after a 401')
        if 'session has ended' not in self.message():
            raise StepFailed('no word that the session ended: ' + self.message())
        # The 401 was the point: not a refused request of the walk.
        for entry in self.driver.get_log('browser'):
            text = entry.get('message', '')
            if 'status of 401' not in text:
                self.failed_requests.append((self.current, text))
        self.shot('session-ended')

    def run(self):
        self.step('load the console', self.load)
        self.step('sign in', self.first_sign_in, needs=['load the console'])
        self.step('repositories screen', self.repositories, needs=['sign in'])
        self.step('mint a token', self.mint, needs=['sign in'])
        self.step('token listed', self.listed, needs=['mint a token'])
        self.step('restic backs up with the shown command', self.restic_backup,
                  needs=['mint a token'])
        self.step('repository usage is shown', self.repository_usage,
                  needs=['restic backs up with the shown command'])
        self.step('revoke the token', self.revoke, needs=['token listed'])
        self.step('keyboard only: mint and revoke', self.keyboard, needs=['sign in'])
        self.step('password mistakes are shown', self.password_errors, needs=['sign in'])
        self.step('change password', self.change_password, needs=['sign in'])
        self.step('reload resumes the session', self.reload_resumes, needs=['sign in'])
        self.step('sign out', self.sign_out, needs=['sign in'])
        if 'change password' in self.passed:
            self.step('sign in with the new password', self.sign_in_new, needs=['sign out'])
        else:
            self.results.append(('sign in with the new password', 'skipped',
                                 'needs change password'))
            self.step('sign in again (old password)', self.sign_in_old, needs=['sign out'])
        self.step('final sign out', self.final_sign_out, needs=['sign out'])
        self.step('a lost session returns to sign-in', self.lost_session, needs=['final sign out'])

    def report(self):
        print('\nconsole walk summary:')
        for name, status, detail in self.results:
            print('  %-40s %s%s' % (name, status, ('  — ' + detail.splitlines()[0]) if detail
                                     else ''))
        for step, text in self.failed_requests:
            print('  request refused during %r: %s' % (step, text))
        print('  screenshots: ' + self.args.screens)
        ok = all(s == 'ok' for _, s, _ in self.results) and not self.failed_requests
        print('console walk: ' + ('PASSED' if ok else 'FAILED'))
        return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--url', required=True)
    p.add_argument('--user', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--new-password', required=True)
    p.add_argument('--screens', required=True)
    p.add_argument('--restic', required=True, help='the restic binary, found on PATH')
    p.add_argument('--storage', required=True, help="the worker's storage_dir")
    p.add_argument('--quota', type=int, required=True, help="the account's quota_bytes")
    p.add_argument('--repo-cap', type=int, required=True, help="the account's repository cap")
    args = p.parse_args()
    try:
        walk = Walk(args)
    except Exception:  # noqa: BLE001
        print('the browser did not start:\n' + traceback.format_exc())
        return 2
    try:
        walk.run()
    finally:
        try:
            walk.driver.quit()
        except Exception:  # noqa: BLE001
            pass
        shutil.rmtree(walk.work, ignore_errors=True)
        shutil.rmtree(walk.profile, ignore_errors=True)
    return walk.report()


if __name__ == '__main__':
    sys.exit(main())
