package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// browserPath finds Chromium, or skips the test.
func browserPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("the console's browser test needs Chromium: apt-get install chromium")
	return ""
}

// TestConsoleInBrowser drives the console in headless Chromium: signing
// in, opening an incident, acting on it, seeing a guard's refusal, adding
// a note. It saves a screenshot of the incident's page in the test's
// temporary directory.
func TestConsoleInBrowser(t *testing.T) {
	exe := browserPath(t)
	s := newSQLiteServer(t, nil)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1280, 1600))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// A bound on the whole run, so that a browser that hangs fails the
	// test instead of holding it.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	type id = chromedp.ID
	text := func(sel chromedp.CSS) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		require.NoError(t, err, "text of %s", sel)
		return v
	}
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/console/"),
		chromedp.WaitVisible(id("token")),
		chromedp.SendKeys(id("token"), tokenResponder),
		chromedp.Submit(id("token")),
		chromedp.WaitVisible(id("title")),
		chromedp.SendKeys(id("title"), "Credential phishing <b>against</b> finance"),
		chromedp.SetValue(id("severity"), "high"),
		chromedp.Click(id("open")),
		chromedp.WaitVisible(id("act-identify")),
		chromedp.Click(id("act-identify")),
		chromedp.WaitVisible(id("act-contain")),
	))
	assert.Equal(t, "Identification", text("#phase"))
	assert.Contains(t, text("#act-contain + .refused"), "no incident commander is assigned")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(id("note"), "Three users reported the same e-mail."),
		chromedp.Click(id("add-note")),
		// The page the form leads to, with the note on its timeline.
		chromedp.WaitVisible(`//table[@id="timeline"]//td[contains(., "Three users reported")]`),
	))
	assert.Contains(t, text("#timeline"), "Three users reported the same e-mail.")
	location, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	// INCIDENTKIT_SCREENSHOT_DIR keeps the screenshot for a person to see.
	dir := os.Getenv("INCIDENTKIT_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "incident.png")
	require.NoError(t, os.WriteFile(path, shot, 0o600))
	t.Logf("screenshot: %s", path)

	// The disabled button's refusal is the Responder's: forcing the form
	// anyway is refused, and the page says why.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.RemoveAttribute(id("act-contain"), "disabled"),
		chromedp.Click(id("act-contain")),
		chromedp.WaitVisible(id("error")),
	))
	assert.Contains(t, text("#error"), "no incident commander is assigned")
	incID := strings.TrimPrefix(strings.SplitN(location, "?", 2)[0], s.url+"/console/incidents/")

	var inc struct{ Title, Phase string }
	s.json("GET", "/v1/incidents/"+incID, tokenViewer, nil, http.StatusOK, &inc)
	assert.Equal(t, "Credential phishing <b>against</b> finance", inc.Title)
	assert.Equal(t, "identification", inc.Phase)
}

// TestConsoleForms checks the console without a browser: signing in, a
// cross-site form refused, a viewer shown what it may not do.
func TestConsoleForms(t *testing.T) {
	s := newSQLiteServer(t, nil)
	inc := s.open("Lost laptop")
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}

	resp, err := c.Get(s.url + "/console/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "/console/sign-in", resp.Request.URL.Path, "not signed in: the sign-in page")

	resp, err = c.PostForm(s.url+"/console/sign-in", url.Values{"token": {"not-a-token-at-all-123"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "/console/sign-in", resp.Request.URL.Path)
	assert.Contains(t, resp.Request.URL.RawQuery, "error=")

	resp, err = c.PostForm(s.url+"/console/sign-in", url.Values{"token": {tokenViewer}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "/console/", resp.Request.URL.Path)
	for _, ck := range jar.Cookies(resp.Request.URL) {
		assert.NotContains(t, ck.Value, tokenViewer, "the token is never sent back")
	}

	resp, err = c.Get(s.url + "/console/incidents/" + string(inc.ID))
	require.NoError(t, err)
	body := readAll(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "You may not add notes.")
	assert.Contains(t, body, "a viewer may not make changes")

	// A form posted from another site is refused.
	req, err := http.NewRequest("POST", s.url+"/console/incidents/"+string(inc.ID)+"/notes", strings.NewReader("text=hello"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	// The viewer's own note is refused by the policy, and the page says so.
	resp, err = c.PostForm(s.url+"/console/incidents/"+string(inc.ID)+"/notes", url.Values{"text": {"hello"}})
	require.NoError(t, err)
	body = readAll(t, resp)
	assert.Contains(t, body, "a viewer may not make changes")

	resp, err = c.Get(s.url + "/console/incidents/" + string(inc.ID) + "/review")
	require.NoError(t, err)
	body = readAll(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "Lost laptop")
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	_, err := io.Copy(&b, resp.Body)
	require.NoError(t, err)
	return b.String()
}
