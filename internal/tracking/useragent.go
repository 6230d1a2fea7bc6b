package tracking

import (
	"strings"

	useragent "github.com/medama-io/go-useragent"
)

// uaInfo is everything the User-Agent tells. Empty strings mean unknown.
type uaInfo struct {
	Device, Vendor, Model          string
	Browser, BrowserVersion        string
	Engine, EngineVersion          string
	OS, OSVersion, CPUArchitecture string
	Bot                            bool
}

// maxCachedUA keeps absurd User-Agents (fuzzers, attacks) out of the cache, so
// the cache's memory stays bounded by entries × a realistic UA size.
const maxCachedUA = 1024

// uaParser combines go-useragent (a fast trie-based parser, used for what our
// own rules do not recognise) with rules for what it does not report: engines,
// OS versions, vendors and models, TVs, consoles, wearables, in-app browsers,
// CPU architecture and bots.
type uaParser struct {
	medama *useragent.Parser
	bots   *botDetector
	cache  *uaCache
}

func newUAParser(cacheSize int) *uaParser {
	return &uaParser{medama: useragent.NewParser(), bots: newBotDetector(), cache: newUACache(cacheSize)}
}

func (p *uaParser) parse(ua string) uaInfo {
	if len(ua) > maxCachedUA {
		return p.parseUncached(ua)
	}
	if v, ok := p.cache.get(ua); ok {
		return v
	}
	v := p.parseUncached(ua)
	p.cache.put(ua, v)
	return v
}

func (p *uaParser) parseUncached(ua string) uaInfo {
	lower := strings.ToLower(ua)
	var info uaInfo
	platform := platformSection(lower)
	info.OS, info.OSVersion = detectOS(ua, lower)
	info.Device = detectDevice(lower, platform)
	info.Vendor, info.Model = detectVendorModel(ua, lower)
	info.Browser, info.BrowserVersion = detectBrowser(ua, lower)
	info.Engine, info.EngineVersion = detectEngine(ua, lower, info.OS)
	info.CPUArchitecture = detectCPU(platform)

	browserKnown := info.Browser != ""
	if info.Browser == "" || info.OS == "" || info.Device == "" {
		p.fillFromMedama(ua, lower, &info)
	}
	if info.Device == "Mobile" || info.Device == "Tablet" {
		switch info.Browser {
		case "Chrome", "Firefox", "Safari":
			info.Browser = "Mobile " + info.Browser
		}
	}
	bot, name, version := p.bots.detect(ua, lower, browserKnown)
	if bot {
		info.Bot = true
		info.Device = "Bot"
		if name != "" {
			info.Browser, info.BrowserVersion = name, version
		}
	}
	return info
}

// fillFromMedama takes go-useragent's answer for whatever our rules missed,
// translated to the names we use elsewhere.
func (p *uaParser) fillFromMedama(ua, lower string, info *uaInfo) {
	m := p.medama.Parse(ua)
	if info.Browser == "" && m.Browser() != "" {
		name := medamaBrowserNames[string(m.Browser())]
		if name == "" {
			name = string(m.Browser())
		}
		// The trie guesses from partial matches; take its answer only when the
		// UA actually names that browser, so we never invent one.
		if word, _, _ := strings.Cut(strings.ToLower(name), " "); strings.Contains(lower, word) {
			info.Browser, info.BrowserVersion = name, m.BrowserVersion()
		}
	}
	if info.OS == "" && m.OS() != "" {
		info.OS = medamaOSNames[string(m.OS())]
		if info.OS == "" {
			info.OS = string(m.OS())
		}
	}
	if info.Device == "" && m.Device() != "" && m.Device() != "Bot" {
		info.Device = string(m.Device())
	}
}

var medamaBrowserNames = map[string]string{
	"Samsung Browser": "Samsung Internet",
	"Amazon Silk":     "Silk",
	"IE":              "IE",
}

var medamaOSNames = map[string]string{
	"MacOS":    "macOS",
	"ChromeOS": "Chrome OS",
}

// platformSection is the first parenthesised part of the UA, where the
// platform tokens live ("windows nt 10.0; win64; x64"), or "".
func platformSection(lower string) string {
	i := strings.IndexByte(lower, '(')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(lower[i+1:], ')')
	if j < 0 {
		return lower[i+1:]
	}
	return lower[i+1 : i+1+j]
}

// versionAfter returns the version that follows marker (lower case) in ua:
// digits, letters, dots, underscores and dashes, starting with a digit; "" if
// there is none. Underscores become dots (iOS writes 17_5).
func versionAfter(ua, lower, marker string) string {
	i := strings.Index(lower, marker)
	if i < 0 {
		return ""
	}
	return versionAt(ua, i+len(marker))
}

func versionAt(ua string, start int) string {
	end := start
	for end < len(ua) && end-start < 32 {
		c := ua[end]
		if c >= '0' && c <= '9' || c == '.' || c == '_' || (end > start && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-')) {
			end++
			continue
		}
		break
	}
	v := strings.Trim(ua[start:end], "._-")
	if v == "" || v[0] < '0' || v[0] > '9' {
		return ""
	}
	return strings.ReplaceAll(v, "_", ".")
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

var windowsVersions = map[string]string{
	"10.0": "10", "6.4": "10", "6.3": "8.1", "6.2": "8", "6.1": "7", "6.0": "Vista",
	"5.2": "XP", "5.1": "XP", "5.0": "2000",
}

func detectOS(ua, lower string) (string, string) {
	switch {
	case strings.Contains(lower, "windows phone"):
		return "Windows Phone", versionAfter(ua, lower, "windows phone ")
	case strings.Contains(lower, "playstation"):
		if v := versionAfter(ua, lower, "playstation 5/"); v != "" {
			return "PlayStation", v
		}
		if v := versionAfter(ua, lower, "playstation 4 "); v != "" {
			return "PlayStation", v
		}
		return "PlayStation", ""
	case strings.Contains(lower, "nintendo"):
		return "Nintendo", ""
	case strings.Contains(lower, "windows nt "):
		v := versionAfter(ua, lower, "windows nt ")
		if w, ok := windowsVersions[v]; ok {
			v = w
		}
		return "Windows", v
	case strings.Contains(lower, "windows"):
		return "Windows", ""
	case containsAny(lower, "watch os ", "watchos "):
		if v := versionAfter(ua, lower, "watch os "); v != "" {
			return "watchOS", v
		}
		return "watchOS", versionAfter(ua, lower, "watchos ")
	case containsAny(lower, "apple tv", "appletv", "tvos"):
		return "tvOS", versionAfter(ua, lower, "cpu os ")
	case containsAny(lower, "iphone", "ipad", "ipod"):
		if v := versionAfter(ua, lower, "iphone os "); v != "" {
			return "iOS", v
		}
		return "iOS", versionAfter(ua, lower, "cpu os ")
	case strings.Contains(lower, "crkey/"):
		return "Chromecast", versionAfter(ua, lower, "crkey/")
	case strings.Contains(lower, "android"):
		if v := versionAfter(ua, lower, "android "); v != "" {
			return "Android", v
		}
		return "Android", versionAfter(ua, lower, "android/")
	case strings.Contains(lower, "mac os x"):
		return "macOS", versionAfter(ua, lower, "mac os x ")
	case strings.Contains(lower, "cros "):
		return "Chrome OS", crosVersion(ua, lower)
	case strings.Contains(lower, "tizen"):
		return "Tizen", versionAfter(ua, lower, "tizen ")
	case containsAny(lower, "web0s", "webos"):
		return "webOS", ""
	case strings.HasPrefix(lower, "roku"):
		return "Roku", versionAfter(ua, lower, "roku/dvp-")
	case strings.Contains(lower, "ubuntu"):
		return "Ubuntu", versionAfter(ua, lower, "ubuntu/")
	case strings.Contains(lower, "fedora"):
		return "Fedora", ""
	case strings.Contains(lower, "freebsd"):
		return "FreeBSD", ""
	case strings.Contains(lower, "openbsd"):
		return "OpenBSD", ""
	case strings.Contains(lower, "linux"):
		return "Linux", ""
	}
	return "", ""
}

// crosVersion reads "CrOS x86_64 14541.0.0": the version follows the arch.
func crosVersion(ua, lower string) string {
	i := strings.Index(lower, "cros ")
	rest := ua[i+len("cros "):]
	if j := strings.IndexByte(rest, ' '); j >= 0 {
		return versionAt(rest, j+1)
	}
	return ""
}

func detectDevice(lower, platform string) string {
	switch {
	case containsAny(lower, "playstation", "xbox", "nintendo"):
		return "Console"
	case containsAny(lower, "smart-tv", "smarttv", "smart tv", "web0s", "hbbtv", "crkey/", "apple tv", "appletv",
		"googletv", "google tv", "android tv", "bravia", "netcast", "philipstv", "viera", "aquos", "; aft", "roku"),
		strings.Contains(lower, "tizen") && strings.Contains(lower, " tv"),
		strings.Contains(lower, "webos") && strings.Contains(lower, "tv"):
		return "TV"
	case containsAny(lower, "watch os", "watchos", "apple watch", "wear os", "; sm-r8", "; sm-r9", "; sm-r3", "samsung sm-r", "glass 1"):
		return "Wearable"
	case containsAny(lower, "ipad", "tablet", "kindle", "silk/", "; kf", "; sm-t", "; sm-x", "; sm-p"):
		return "Tablet"
	case containsAny(lower, "iphone", "ipod", "windows phone", "mobi", "opera mini", "blackberry"):
		return "Mobile"
	case strings.Contains(lower, "android"):
		// Android phones say "Mobile"; tablets do not.
		return "Tablet"
	case containsAny(platform, "windows", "macintosh", "x11", "cros", "linux"):
		return "Desktop"
	}
	return ""
}

// androidVendors maps a model prefix (as written in the UA) to its maker.
var androidVendors = [...]struct{ prefix, vendor string }{
	{"SM-", "Samsung"}, {"GT-", "Samsung"}, {"SAMSUNG", "Samsung"}, {"Galaxy", "Samsung"},
	{"Pixel", "Google"}, {"Nexus", "Google"},
	{"Redmi", "Xiaomi"}, {"POCO", "Xiaomi"}, {"Mi ", "Xiaomi"}, {"MI ", "Xiaomi"}, {"Xiaomi", "Xiaomi"},
	{"KF", "Amazon"}, {"AFT", "Amazon"},
	{"moto", "Motorola"}, {"Moto", "Motorola"}, {"XT", "Motorola"},
	{"HUAWEI", "Huawei"}, {"Huawei", "Huawei"}, {"HONOR", "Honor"},
	{"LM-", "LG"}, {"LG-", "LG"}, {"BRAVIA", "Sony"}, {"SO-", "Sony"}, {"Xperia", "Sony"},
	{"Nokia", "Nokia"}, {"ONEPLUS", "OnePlus"}, {"OnePlus", "OnePlus"}, {"OPPO", "OPPO"}, {"CPH", "OPPO"},
	{"RMX", "Realme"}, {"vivo", "Vivo"}, {"V2", "Vivo"}, {"Infinix", "Infinix"}, {"TECNO", "Tecno"},
	{"Lenovo", "Lenovo"}, {"ASUS", "ASUS"}, {"Nothing", "Nothing"}, {"FP", "Fairphone"},
}

func detectVendorModel(ua, lower string) (string, string) {
	switch {
	case strings.Contains(lower, "playstation"):
		switch {
		case strings.Contains(lower, "playstation 5"):
			return "Sony", "PlayStation 5"
		case strings.Contains(lower, "playstation 4"):
			return "Sony", "PlayStation 4"
		case strings.Contains(lower, "playstation vita"):
			return "Sony", "PlayStation Vita"
		}
		return "Sony", "PlayStation"
	case strings.Contains(lower, "xbox"):
		switch {
		case strings.Contains(lower, "xbox series x"):
			return "Microsoft", "Xbox Series X"
		case strings.Contains(lower, "xbox one"):
			return "Microsoft", "Xbox One"
		}
		return "Microsoft", "Xbox"
	case strings.Contains(lower, "nintendo switch"):
		return "Nintendo", "Switch"
	case strings.Contains(lower, "nintendo"):
		return "Nintendo", ""
	case containsAny(lower, "apple watch", "watch os"):
		return "Apple", "Apple Watch"
	case containsAny(lower, "apple tv", "appletv"):
		return "Apple", "Apple TV"
	case strings.Contains(lower, "iphone"):
		return "Apple", "iPhone"
	case strings.Contains(lower, "ipad"):
		return "Apple", "iPad"
	case strings.Contains(lower, "ipod"):
		return "Apple", "iPod touch"
	case strings.Contains(lower, "macintosh"):
		return "Apple", "Macintosh"
	case strings.Contains(lower, "crkey/"):
		return "Google", "Chromecast"
	case strings.HasPrefix(lower, "roku"):
		return "Roku", ""
	case containsAny(lower, "web0s", "webos", "netcast"):
		return "LG", ""
	case strings.Contains(lower, "tizen") && containsAny(lower, "smart-tv", " tv"):
		return "Samsung", ""
	case strings.Contains(lower, "android"):
		model := androidModel(ua, lower)
		for _, v := range androidVendors {
			if strings.HasPrefix(model, v.prefix) {
				if v.prefix == "SAMSUNG" {
					model = strings.TrimSpace(strings.TrimPrefix(model, "SAMSUNG"))
				}
				return v.vendor, model
			}
		}
		return "", model
	}
	return "", ""
}

// androidModel reads the model from "(Linux; Android 14; Pixel 8 Pro Build/…)":
// the first platform token after the Android version that is not a flag,
// locale or placeholder. Chrome's reduced UA says "K", which is no model.
func androidModel(ua, lower string) string {
	i := strings.IndexByte(lower, '(')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(lower[i:], ')')
	if j < 0 {
		return ""
	}
	tokens := strings.Split(ua[i+1:i+j], ";")
	seenAndroid := false
	for _, t := range tokens {
		t = strings.TrimSpace(t)
		lt := strings.ToLower(t)
		if strings.HasPrefix(lt, "android") {
			seenAndroid = true
			continue
		}
		if !seenAndroid || t == "" || lt == "u" || lt == "k" || lt == "wv" || lt == "mobile" || lt == "tablet" ||
			strings.HasPrefix(lt, "rv:") || isLocale(lt) {
			continue
		}
		if b := strings.Index(t, " Build/"); b >= 0 {
			t = t[:b]
		} else if strings.HasPrefix(t, "Build/") {
			continue
		}
		return strings.TrimSpace(t)
	}
	return ""
}

// isLocale matches "en-us", "zh-cn", "en_gb", "de".
func isLocale(t string) bool {
	if len(t) == 2 {
		return t[0] >= 'a' && t[0] <= 'z' && t[1] >= 'a' && t[1] <= 'z'
	}
	return len(t) == 5 && (t[2] == '-' || t[2] == '_') && t[0] >= 'a' && t[0] <= 'z' && t[1] >= 'a' && t[1] <= 'z'
}

// browserRules are checked in order; the first marker found names the
// browser and its version follows the version marker (or the marker itself).
// In-app browsers come first because they also carry Safari/Chrome tokens.
var browserRules = [...]struct{ marker, name, version string }{
	{"instagram ", "Instagram", ""},
	{"fbav/", "Facebook", ""},
	{"fban/", "Facebook", "fbav/"},
	{"fb_iab", "Facebook", "fbav/"},
	{"musical_ly_", "TikTok", ""},
	{"trill_", "TikTok", ""},
	{"bytedancewebview", "TikTok", ""},
	{"tiktok", "TikTok", ""},
	{"[linkedinapp]", "LinkedIn", "[linkedinapp]/"},
	{"snapchat/", "Snapchat", ""},
	{"micromessenger/", "WeChat", ""},
	{" line/", "Line", ""},
	{"pinterest/", "Pinterest", ""},
	{"twitterandroid", "Twitter", ""},
	{"twitter for iphone", "Twitter", ""},
	{"gsa/", "Google App", ""},
	{"edg/", "Edge", ""},
	{"edga/", "Edge", ""},
	{"edgios/", "Edge", ""},
	{"edge/", "Edge", ""},
	{"opera mini/", "Opera Mini", ""},
	{"opr/", "Opera", ""},
	{"opt/", "Opera Touch", ""},
	{"opera/", "Opera", "version/"},
	{"samsungbrowser/", "Samsung Internet", ""},
	{"yabrowser/", "Yandex", ""},
	{"miuibrowser/", "MIUI Browser", ""},
	{"ucbrowser/", "UC Browser", ""},
	{"vivaldi/", "Vivaldi", ""},
	{"silk/", "Silk", ""},
	{"huaweibrowser/", "Huawei Browser", ""},
	{"nintendobrowser/", "Nintendo Browser", ""},
	{"duckduckgo/", "DuckDuckGo", ""},
	{"crios/", "Chrome", ""},
	{"fxios/", "Firefox", ""},
	{"firefox/", "Firefox", ""},
	{"msie ", "IE", ""},
	{"trident/", "IE", "rv:"},
	{"; wv)", "Chrome WebView", "chrome/"},
	{"chromium/", "Chromium", ""},
	{"chrome/", "Chrome", ""},
	{"version/", "Safari", ""},
}

func detectBrowser(ua, lower string) (string, string) {
	for _, r := range browserRules {
		i := strings.Index(lower, r.marker)
		if i < 0 {
			continue
		}
		if r.name == "Safari" && !strings.Contains(lower, "safari") {
			continue
		}
		if r.version != "" {
			return r.name, versionAfter(ua, lower, r.version)
		}
		return r.name, versionAt(ua, i+len(r.marker))
	}
	return "", ""
}

func detectEngine(ua, lower, os string) (string, string) {
	switch {
	case strings.Contains(lower, "trident/"):
		return "Trident", versionAfter(ua, lower, "trident/")
	case strings.Contains(lower, "edge/"):
		return "EdgeHTML", versionAfter(ua, lower, "edge/")
	case strings.Contains(lower, "presto/"):
		return "Presto", versionAfter(ua, lower, "presto/")
	case strings.Contains(lower, "applewebkit/"):
		// Every browser on iOS is WebKit whatever it calls itself; elsewhere a
		// Chrome token means Blink, whose version is Chrome's.
		if os != "iOS" && os != "watchOS" && os != "tvOS" {
			if v := versionAfter(ua, lower, "chrome/"); v != "" {
				return "Blink", v
			}
		}
		return "WebKit", versionAfter(ua, lower, "applewebkit/")
	case strings.Contains(lower, "gecko/") && !strings.Contains(lower, "like gecko"):
		if v := versionAfter(ua, lower, "rv:"); v != "" {
			return "Gecko", v
		}
		return "Gecko", versionAfter(ua, lower, "gecko/")
	}
	return "", ""
}

// cpuWords maps a platform word to the architecture names ua-parser uses.
var cpuWords = map[string]string{
	"x86_64": "amd64", "x64": "amd64", "win64": "amd64", "wow64": "amd64", "amd64": "amd64", "x86-64": "amd64",
	"aarch64": "arm64", "arm64": "arm64", "armv8": "arm64",
	"armv7l": "arm", "armv7": "arm", "armv8l": "arm", "armv6l": "arm", "arm": "arm",
	"i686": "ia32", "i586": "ia32", "i386": "ia32", "x86": "ia32",
	"ppc": "ppc", "powerpc": "ppc", "ppc64": "ppc64", "ppc64le": "ppc64",
}

// detectCPU looks only at whole words of the platform section, so numbers
// elsewhere ("1080x640") cannot pass for "x64".
func detectCPU(platform string) string {
	for _, tok := range strings.Split(platform, ";") {
		for _, w := range strings.Fields(tok) {
			if a, ok := cpuWords[w]; ok {
				return a
			}
		}
	}
	return ""
}
