package tracking

import (
	"strings"

	"github.com/x-way/crawlerdetect"
)

// botPattern names one family of non-human agent. match is a lower-case
// substring of the User-Agent (or, with prefix set, its start); name is what we
// report as the "browser", and its version is read after "<name>/" if present.
type botPattern struct {
	match  string
	name   string
	prefix bool
}

// botPatterns are checked before the crawler list: they are cheap substring
// tests, cover what matters most for link analytics (search and AI crawlers,
// link-preview fetchers, HTTP tools), and give the agent a readable name.
var botPatterns = [...]botPattern{
	// Search engines.
	{match: "googlebot", name: "Googlebot"},
	{match: "adsbot-google", name: "AdsBot-Google"},
	{match: "mediapartners-google", name: "Mediapartners-Google"},
	{match: "google-inspectiontool", name: "Google-InspectionTool"},
	{match: "googleother", name: "GoogleOther"},
	{match: "storebot-google", name: "Storebot-Google"},
	{match: "feedfetcher-google", name: "FeedFetcher-Google"},
	{match: "google-read-aloud", name: "Google-Read-Aloud"},
	{match: "bingbot", name: "bingbot"},
	{match: "bingpreview", name: "BingPreview"},
	{match: "adidxbot", name: "adidxbot"},
	{match: "applebot", name: "Applebot"},
	{match: "yandexbot", name: "YandexBot"},
	{match: "yandex.com/bots", name: "YandexBot"},
	{match: "duckduckbot", name: "DuckDuckBot"},
	{match: "duckassistbot", name: "DuckAssistBot"},
	{match: "baiduspider", name: "Baiduspider"},
	{match: "yahoo! slurp", name: "Yahoo! Slurp"},
	{match: "sogou", name: "Sogou"},
	{match: "petalbot", name: "PetalBot"},
	{match: "seznambot", name: "SeznamBot"},
	{match: "qwantify", name: "Qwantify"},
	{match: "ahrefsbot", name: "AhrefsBot"},
	{match: "semrushbot", name: "SemrushBot"},
	{match: "mj12bot", name: "MJ12bot"},
	{match: "dotbot", name: "DotBot"},
	{match: "dataforseobot", name: "DataForSeoBot"},
	// AI crawlers and assistants fetching on a user's behalf.
	{match: "gptbot", name: "GPTBot"},
	{match: "chatgpt-user", name: "ChatGPT-User"},
	{match: "oai-searchbot", name: "OAI-SearchBot"},
	{match: "claudebot", name: "ClaudeBot"},
	{match: "claude-web", name: "Claude-Web"},
	{match: "claude-user", name: "Claude-User"},
	{match: "claude-searchbot", name: "Claude-SearchBot"},
	{match: "anthropic-ai", name: "anthropic-ai"},
	{match: "perplexitybot", name: "PerplexityBot"},
	{match: "perplexity-user", name: "Perplexity-User"},
	{match: "ccbot", name: "CCBot"},
	{match: "bytespider", name: "Bytespider"},
	{match: "amazonbot", name: "Amazonbot"},
	{match: "meta-externalagent", name: "meta-externalagent"},
	{match: "meta-externalfetcher", name: "meta-externalfetcher"},
	{match: "cohere-ai", name: "cohere-ai"},
	{match: "diffbot", name: "Diffbot"},
	{match: "youbot", name: "YouBot"},
	{match: "mistralai-user", name: "MistralAI-User"},
	{match: "timpibot", name: "Timpibot"},
	{match: "imagesiftbot", name: "ImagesiftBot"},
	// Link-preview fetchers of chat apps and social networks.
	{match: "slackbot", name: "Slackbot"},
	{match: "slack-imgproxy", name: "Slack-ImgProxy"},
	{match: "facebookexternalhit", name: "facebookexternalhit"},
	{match: "facebookcatalog", name: "facebookcatalog"},
	{match: "facebot", name: "Facebot"},
	{match: "whatsapp", name: "WhatsApp"},
	{match: "discordbot", name: "Discordbot"},
	{match: "telegrambot", name: "TelegramBot"},
	{match: "twitterbot", name: "Twitterbot"},
	{match: "linkedinbot", name: "LinkedInBot"},
	{match: "skypeuripreview", name: "SkypeUriPreview"},
	{match: "microsoftpreview", name: "MicrosoftPreview"},
	{match: "pinterestbot", name: "Pinterestbot"},
	{match: "pinterest/0.", name: "Pinterest"},
	{match: "redditbot", name: "redditbot"},
	{match: "embedly", name: "Embedly"},
	{match: "iframely", name: "Iframely"},
	{match: "mastodon/", name: "Mastodon"},
	{match: "bluesky cardyb", name: "Bluesky"},
	{match: "cardyb", name: "Bluesky"},
	{match: "vkshare", name: "vkShare"},
	{match: "snap url preview", name: "Snap URL Preview"},
	{match: "googleimageproxy", name: "GoogleImageProxy"},
	{match: "zoominfobot", name: "ZoomInfoBot"},
	{match: "quora link preview", name: "Quora Link Preview"},
	{match: "outbrain", name: "Outbrain"},
	{match: "line-poker", name: "LINE"},
	{match: "kakaotalk-scrap", name: "KakaoTalk"},
	{match: "yahoo link preview", name: "Yahoo Link Preview"},
	// Headless browsers, monitors and tools.
	{match: "headlesschrome", name: "HeadlessChrome"},
	{match: "phantomjs", name: "PhantomJS"},
	{match: "puppeteer", name: "Puppeteer"},
	{match: "playwright", name: "Playwright"},
	{match: "selenium", name: "Selenium"},
	{match: "lighthouse", name: "Lighthouse"},
	{match: "pagespeed", name: "PageSpeed"},
	{match: "gtmetrix", name: "GTmetrix"},
	{match: "uptimerobot", name: "UptimeRobot"},
	{match: "pingdom", name: "Pingdom"},
	{match: "statuscake", name: "StatusCake"},
	{match: "site24x7", name: "Site24x7"},
	{match: "datadog", name: "Datadog"},
	{match: "w3c_validator", name: "W3C_Validator"},
	{match: "postmanruntime", name: "PostmanRuntime"},
	{match: "insomnia", name: "insomnia"},
	{match: "httpie", name: "HTTPie"},
	{match: "scrapy", name: "Scrapy"},
	// HTTP libraries and command-line clients.
	{match: "curl/", name: "curl"},
	{match: "curl", name: "curl", prefix: true},
	{match: "wget", name: "Wget"},
	{match: "go-http-client", name: "Go-http-client"},
	{match: "python-requests", name: "python-requests"},
	{match: "python-urllib", name: "Python-urllib"},
	{match: "python-httpx", name: "python-httpx"},
	{match: "aiohttp", name: "aiohttp"},
	{match: "python/", name: "Python", prefix: true},
	{match: "okhttp", name: "okhttp"},
	{match: "axios/", name: "axios"},
	{match: "node-fetch", name: "node-fetch"},
	{match: "undici", name: "undici"},
	{match: "node", name: "Node.js", prefix: true},
	{match: "got (", name: "got"},
	{match: "apache-httpclient", name: "Apache-HttpClient"},
	{match: "jakarta commons-httpclient", name: "Jakarta Commons-HttpClient"},
	{match: "java/", name: "Java"},
	{match: "java", name: "Java", prefix: true},
	{match: "libwww-perl", name: "libwww-perl"},
	{match: "lwp::simple", name: "LWP::Simple"},
	{match: "guzzlehttp", name: "GuzzleHttp"},
	{match: "php/", name: "PHP", prefix: true},
	{match: "ruby", name: "Ruby", prefix: true},
	{match: "faraday", name: "Faraday"},
	{match: "http.rb", name: "http.rb"},
	{match: "reqwest", name: "reqwest"},
	{match: "hyper/", name: "hyper"},
	{match: "restsharp", name: "RestSharp"},
	{match: "dart:io", name: "Dart"},
	{match: "dart/", name: "Dart", prefix: true},
	{match: "powershell", name: "PowerShell"},
	{match: "winhttp", name: "WinHttp"},
	{match: "cfnetwork", name: "CFNetwork", prefix: true},
	{match: "mechanize", name: "Mechanize"},
	{match: "wordpress", name: "WordPress"},
	{match: "feedburner", name: "FeedBurner"},
	{match: "httpclient", name: "HttpClient"},
	{match: "libcurl", name: "libcurl"},
}

// botDetector tells whether a User-Agent belongs to a machine.
type botDetector struct {
	crawlers *crawlerdetect.CrawlerDetect
}

func newBotDetector() *botDetector {
	return &botDetector{crawlers: crawlerdetect.New()}
}

// detect returns (isBot, name, version) for ua; lower is ua in lower case and
// browserKnown tells whether our rules named a browser. The name is "" when
// the agent is a bot but not one we can name.
func (d *botDetector) detect(ua, lower string, browserKnown bool) (bool, string, string) {
	if strings.TrimSpace(ua) == "" {
		return true, "", ""
	}
	for i := range botPatterns {
		p := &botPatterns[i]
		if p.prefix && !strings.HasPrefix(lower, p.match) || !p.prefix && !strings.Contains(lower, p.match) {
			continue
		}
		return true, p.name, versionAfter(ua, lower, strings.ToLower(p.name)+"/")
	}
	// The maintained list catches the long tail (over a thousand agents). It is
	// a single large regular expression costing ~100 µs, so it runs only on a
	// parse-cache miss, and only for agents that are not plainly a browser:
	// otherwise a flood of never-seen browser UAs would make every miss slow.
	if needsCrawlerList(lower, browserKnown) && d.crawlers.IsCrawler(ua) {
		return true, "", ""
	}
	return false, "", ""
}

// crawlerHints are words that real browsers never send but many unnamed
// crawlers do (contact URLs, "compatible;" product tokens, library names).
var crawlerHints = [...]string{
	"bot", "crawl", "spider", "http", "www.", ".com", "@", "+", "compatible", "fetch", "preview",
	"scan", "check", "monitor", "archive", "search", "index", "valid", "proxy", "client", "library",
	"scrape", "feed", "reader", "agent", "download", "java", "python", "perl", "ruby", "php", "go-",
}

// needsCrawlerList is false for a UA that our rules already recognised as a
// browser and that carries no crawler hint.
func needsCrawlerList(lower string, browserKnown bool) bool {
	if !browserKnown || !strings.HasPrefix(lower, "mozilla/5.0 (") {
		return true
	}
	for _, h := range crawlerHints {
		if strings.Contains(lower, h) {
			return true
		}
	}
	return false
}
