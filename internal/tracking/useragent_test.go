package tracking

import "testing"

// uaCase is one real User-Agent and what we expect from it. Device, Browser,
// OS and Bot are always checked; the other fields only when set.
type uaCase struct {
	name, ua                              string
	device, browser, os                   string
	bot                                   bool
	vendor, model, browserVersion, engine string
	engineVersion, osVersion, cpu         string
}

var uaCorpus = []uaCase{
	// Desktop.
	{name: "chrome windows", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		device: "Desktop", browser: "Chrome", os: "Windows", browserVersion: "124.0.0.0", engine: "Blink", engineVersion: "124.0.0.0", osVersion: "10", cpu: "amd64"},
	{name: "firefox windows", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
		device: "Desktop", browser: "Firefox", os: "Windows", browserVersion: "125.0", engine: "Gecko", engineVersion: "125.0", cpu: "amd64"},
	{name: "edge windows", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
		device: "Desktop", browser: "Edge", os: "Windows", browserVersion: "124.0.2478.51", engine: "Blink"},
	{name: "opera windows", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 OPR/109.0.0.0",
		device: "Desktop", browser: "Opera", os: "Windows", browserVersion: "109.0.0.0"},
	{name: "yandex windows", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
		device: "Desktop", browser: "Yandex", os: "Windows", browserVersion: "24.4.0.0"},
	{name: "chrome windows 8.1 32-bit", ua: "Mozilla/5.0 (Windows NT 6.3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
		device: "Desktop", browser: "Chrome", os: "Windows", osVersion: "8.1", cpu: Unknown},
	{name: "ie11 windows 7", ua: "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
		device: "Desktop", browser: "IE", os: "Windows", browserVersion: "11.0", engine: "Trident", engineVersion: "7.0", osVersion: "7", cpu: "amd64"},
	{name: "chrome mac", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		device: "Desktop", browser: "Chrome", os: "macOS", osVersion: "10.15.7", vendor: "Apple", model: "Macintosh", engine: "Blink"},
	{name: "safari mac", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
		device: "Desktop", browser: "Safari", os: "macOS", browserVersion: "17.4.1", engine: "WebKit", engineVersion: "605.1.15"},
	{name: "firefox mac", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
		device: "Desktop", browser: "Firefox", os: "macOS", osVersion: "14.4", engine: "Gecko"},
	{name: "edge mac", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
		device: "Desktop", browser: "Edge", os: "macOS"},
	{name: "chrome linux", ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		device: "Desktop", browser: "Chrome", os: "Linux", cpu: "amd64", engine: "Blink"},
	{name: "firefox ubuntu", ua: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
		device: "Desktop", browser: "Firefox", os: "Ubuntu", cpu: "amd64"},
	{name: "firefox linux arm64", ua: "Mozilla/5.0 (X11; Linux aarch64; rv:109.0) Gecko/20100101 Firefox/115.0",
		device: "Desktop", browser: "Firefox", os: "Linux", cpu: "arm64"},
	{name: "chrome os", ua: "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		device: "Desktop", browser: "Chrome", os: "Chrome OS", osVersion: "14541.0.0", cpu: "amd64"},
	{name: "vivaldi linux", ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Vivaldi/6.6.3271.61",
		device: "Desktop", browser: "Vivaldi", os: "Linux"},

	// Phones.
	{name: "iphone safari", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		device: "Mobile", browser: "Mobile Safari", os: "iOS", vendor: "Apple", model: "iPhone", browserVersion: "17.5", engine: "WebKit", engineVersion: "605.1.15", osVersion: "17.5", cpu: Unknown},
	{name: "iphone chrome", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
		device: "Mobile", browser: "Mobile Chrome", os: "iOS", browserVersion: "124.0.6367.88", engine: "WebKit", osVersion: "17.4"},
	{name: "iphone firefox", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15",
		device: "Mobile", browser: "Mobile Firefox", os: "iOS", osVersion: "17.4.1", engine: "WebKit"},
	{name: "iphone edge", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/124.2478.50 Mobile/15E148 Safari/605.1.15",
		device: "Mobile", browser: "Edge", os: "iOS"},
	{name: "android chrome reduced", ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
		device: "Mobile", browser: "Mobile Chrome", os: "Android", osVersion: "10", vendor: Unknown, model: Unknown, engine: "Blink"},
	{name: "pixel chrome", ua: "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
		device: "Mobile", browser: "Mobile Chrome", os: "Android", vendor: "Google", model: "Pixel 8 Pro", osVersion: "14"},
	{name: "samsung internet", ua: "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
		device: "Mobile", browser: "Samsung Internet", os: "Android", vendor: "Samsung", model: "SM-S918B", browserVersion: "24.0"},
	{name: "galaxy chrome build", ua: "Mozilla/5.0 (Linux; Android 9; SM-G960F Build/PPR1.180610.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.157 Mobile Safari/537.36",
		device: "Mobile", browser: "Mobile Chrome", os: "Android", vendor: "Samsung", model: "SM-G960F", osVersion: "9"},
	{name: "firefox android", ua: "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
		device: "Mobile", browser: "Mobile Firefox", os: "Android", engine: "Gecko", engineVersion: "125.0"},
	{name: "xiaomi miui", ua: "Mozilla/5.0 (Linux; U; Android 12; en-us; Redmi Note 11 Build/SKQ1.211103.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile Safari/537.36 XiaoMi/MiuiBrowser/14.4.0-g",
		device: "Mobile", browser: "MIUI Browser", os: "Android", vendor: "Xiaomi", model: "Redmi Note 11"},
	{name: "android webview", ua: "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36",
		device: "Mobile", browser: "Chrome WebView", os: "Android", vendor: "Samsung", model: "SM-A536B", browserVersion: "124.0.6367.82"},
	{name: "edge android", ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64",
		device: "Mobile", browser: "Edge", os: "Android"},
	{name: "opera android", ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36 OPR/81.1.4292.78446",
		device: "Mobile", browser: "Opera", os: "Android"},
	{name: "oneplus chrome", ua: "Mozilla/5.0 (Linux; Android 11; ONEPLUS A6013) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.45 Mobile Safari/537.36",
		device: "Mobile", browser: "Mobile Chrome", os: "Android", vendor: "OnePlus", model: "ONEPLUS A6013"},

	// Tablets.
	{name: "ipad safari", ua: "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
		device: "Tablet", browser: "Mobile Safari", os: "iOS", osVersion: "16.6", vendor: "Apple", model: "iPad"},
	{name: "galaxy tab chrome", ua: "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		device: "Tablet", browser: "Mobile Chrome", os: "Android", vendor: "Samsung", model: "SM-X710"},
	{name: "kindle fire silk", ua: "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/124.2.1 like Chrome/124.0.6367.82 Safari/537.36",
		device: "Tablet", browser: "Silk", os: "Android", vendor: "Amazon", model: "KFTRWI"},
	{name: "firefox android tablet", ua: "Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
		device: "Tablet", browser: "Mobile Firefox", os: "Android"},

	// In-app browsers.
	{name: "instagram ios", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 329.0.4.29.120 (iPhone15,3; iOS 17_4_1; en_US; en; scale=3.00; 1290x2796; 590155312)",
		device: "Mobile", browser: "Instagram", os: "iOS", browserVersion: "329.0.4.29.120", vendor: "Apple"},
	{name: "instagram android", ua: "Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 Instagram 327.0.0.39.93 Android (33/13; 480dpi; 1080x2176; samsung; SM-G991B; o1s; exynos2100; en_US; 587209245)",
		device: "Mobile", browser: "Instagram", os: "Android", osVersion: "13", vendor: "Samsung", model: "SM-G991B"},
	{name: "facebook ios", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/460.0.0.35.108;FBBV/585543420;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.4.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/588162035]",
		device: "Mobile", browser: "Facebook", os: "iOS", browserVersion: "460.0.0.35.108"},
	{name: "facebook android", ua: "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/AP1A.240405.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/461.0.0.41.104;]",
		device: "Mobile", browser: "Facebook", os: "Android", vendor: "Google", model: "Pixel 7", browserVersion: "461.0.0.41.104"},
	{name: "tiktok ios", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_34.1.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US ByteFullLocale/en RevealType/Dialog isDarkMode/0 WKWebView/1 BytedanceWebview/d8a21c6",
		device: "Mobile", browser: "TikTok", os: "iOS", browserVersion: "34.1.0"},
	{name: "tiktok android", ua: "Mozilla/5.0 (Linux; Android 12; SM-A525F Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.5845.114 Mobile Safari/537.36 trill_330504 BytedanceWebview/d8a21c6",
		device: "Mobile", browser: "TikTok", os: "Android"},
	{name: "linkedin app", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.29.8962",
		device: "Mobile", browser: "LinkedIn", os: "iOS", browserVersion: "9.29.8962"},
	{name: "snapchat", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Snapchat/13.0.0.44 (like Safari/8617.1.17.10.9, panda)",
		device: "Mobile", browser: "Snapchat", os: "iOS", browserVersion: "13.0.0.44"},
	{name: "wechat", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN",
		device: "Mobile", browser: "WeChat", os: "iOS", browserVersion: "8.0.47"},
	{name: "google app", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/312.0.624210862 Mobile/15E148 Safari/604.1",
		device: "Mobile", browser: "Google App", os: "iOS"},

	// Smart TVs and streaming devices.
	{name: "samsung tizen tv", ua: "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36",
		device: "TV", browser: "Safari", os: "Tizen", osVersion: "6.0", vendor: "Samsung"},
	{name: "lg webos tv", ua: "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36 WebAppManager",
		device: "TV", browser: "Chrome", os: "webOS", vendor: "LG"},
	{name: "chromecast", ua: "Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.120 Safari/537.36 CrKey/1.56.500000",
		device: "TV", browser: "Chrome", os: "Chromecast", vendor: "Google", model: "Chromecast", cpu: "arm"},
	{name: "fire tv", ua: "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7633.3445N; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36",
		device: "TV", browser: "Chrome WebView", os: "Android", vendor: "Amazon", model: "AFTMM"},
	{name: "sony bravia", ua: "Mozilla/5.0 (Linux; Android 10; BRAVIA 4K VH2 Build/QTG3.200305.006.S292; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36",
		device: "TV", browser: "Chrome WebView", os: "Android", vendor: "Sony", model: "BRAVIA 4K VH2"},
	{name: "roku", ua: "Roku/DVP-12.5 (12.5.0.4178)",
		device: "TV", browser: Unknown, os: "Roku", vendor: "Roku", osVersion: "12.5"},
	{name: "apple tv", ua: "AppleCoreMedia/1.0.0.20L563 (Apple TV; U; CPU OS 16_5 like Mac OS X; en_us)",
		device: "TV", browser: Unknown, os: "tvOS", osVersion: "16.5", vendor: "Apple", model: "Apple TV"},

	// Consoles.
	{name: "playstation 5", ua: "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15",
		device: "Console", browser: "Safari", os: "PlayStation", osVersion: "2.26", vendor: "Sony", model: "PlayStation 5"},
	{name: "playstation 4", ua: "Mozilla/5.0 (PlayStation 4 11.00) AppleWebKit/605.1.15 (KHTML, like Gecko)",
		device: "Console", browser: Unknown, os: "PlayStation", osVersion: "11.00", vendor: "Sony", model: "PlayStation 4"},
	{name: "xbox one", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
		device: "Console", browser: "Edge", os: "Windows", vendor: "Microsoft", model: "Xbox One", engine: "EdgeHTML", engineVersion: "18.19041"},
	{name: "nintendo switch", ua: "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393",
		device: "Console", browser: "Nintendo Browser", os: "Nintendo", vendor: "Nintendo", model: "Switch", engine: "WebKit"},

	// Wearables.
	{name: "apple watch", ua: "Mozilla/5.0 (Apple Watch; CPU Watch OS 10_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/10.0 Mobile/21T216 Safari/605.1",
		device: "Wearable", browser: "Safari", os: "watchOS", osVersion: "10.4", vendor: "Apple", model: "Apple Watch"},
	{name: "galaxy watch samsung internet", ua: "Mozilla/5.0 (Linux; Android 11; SAMSUNG SM-R875F) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/2.0 Chrome/87.0.4280.141 Mobile Safari/537.36",
		device: "Wearable", browser: "Samsung Internet", os: "Android", vendor: "Samsung", model: "SM-R875F"},

	// Search and AI crawlers.
	{name: "googlebot", ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		device: "Bot", browser: "Googlebot", os: Unknown, bot: true, browserVersion: "2.1"},
	{name: "googlebot smartphone", ua: "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		device: "Bot", browser: "Googlebot", os: "Android", bot: true},
	{name: "bingbot", ua: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
		device: "Bot", browser: "bingbot", os: Unknown, bot: true, browserVersion: "2.0"},
	{name: "applebot", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
		device: "Bot", browser: "Applebot", os: "macOS", bot: true},
	{name: "yandexbot", ua: "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
		device: "Bot", browser: "YandexBot", os: Unknown, bot: true},
	{name: "duckduckbot", ua: "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
		device: "Bot", browser: "DuckDuckBot", os: Unknown, bot: true},
	{name: "baiduspider", ua: "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
		device: "Bot", browser: "Baiduspider", os: Unknown, bot: true},
	{name: "gptbot", ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.2; +https://openai.com/gptbot",
		device: "Bot", browser: "GPTBot", os: Unknown, bot: true, browserVersion: "1.2"},
	{name: "chatgpt-user", ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot",
		device: "Bot", browser: "ChatGPT-User", os: Unknown, bot: true},
	{name: "claudebot", ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
		device: "Bot", browser: "ClaudeBot", os: Unknown, bot: true, browserVersion: "1.0"},
	{name: "perplexitybot", ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
		device: "Bot", browser: "PerplexityBot", os: Unknown, bot: true},
	{name: "ccbot", ua: "CCBot/2.0 (https://commoncrawl.org/faq/)",
		device: "Bot", browser: "CCBot", os: Unknown, bot: true, browserVersion: "2.0"},
	{name: "bytespider", ua: "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
		device: "Bot", browser: "Bytespider", os: "Android", bot: true},
	{name: "amazonbot", ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot) Chrome/119.0.6045.214 Safari/537.36",
		device: "Bot", browser: "Amazonbot", os: Unknown, bot: true},
	{name: "ahrefsbot", ua: "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
		device: "Bot", browser: "AhrefsBot", os: Unknown, bot: true},

	// Link-preview fetchers.
	{name: "slackbot", ua: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
		device: "Bot", browser: "Slackbot", os: Unknown, bot: true},
	{name: "twitterbot", ua: "Twitterbot/1.0",
		device: "Bot", browser: "Twitterbot", os: Unknown, bot: true, browserVersion: "1.0"},
	{name: "facebookexternalhit", ua: "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
		device: "Bot", browser: "facebookexternalhit", os: Unknown, bot: true, browserVersion: "1.1"},
	{name: "whatsapp", ua: "WhatsApp/2.23.20.0",
		device: "Bot", browser: "WhatsApp", os: Unknown, bot: true, browserVersion: "2.23.20.0"},
	{name: "discordbot", ua: "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
		device: "Bot", browser: "Discordbot", os: Unknown, bot: true},
	{name: "telegrambot", ua: "TelegramBot (like TwitterBot)",
		device: "Bot", browser: "TelegramBot", os: Unknown, bot: true},
	{name: "linkedinbot", ua: "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
		device: "Bot", browser: "LinkedInBot", os: Unknown, bot: true},
	{name: "skype preview", ua: "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
		device: "Bot", browser: "SkypeUriPreview", os: "Windows", bot: true},
	{name: "imessage preview", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
		device: "Bot", os: "macOS", bot: true},
	{name: "pinterestbot", ua: "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
		device: "Bot", browser: "Pinterestbot", os: Unknown, bot: true},

	// Tools, headless browsers and HTTP libraries.
	{name: "curl", ua: "curl/8.5.0", device: "Bot", browser: "curl", os: Unknown, bot: true, browserVersion: "8.5.0"},
	{name: "wget", ua: "Wget/1.21.4", device: "Bot", browser: "Wget", os: Unknown, bot: true, browserVersion: "1.21.4"},
	{name: "go", ua: "Go-http-client/1.1", device: "Bot", browser: "Go-http-client", os: Unknown, bot: true, browserVersion: "1.1"},
	{name: "python-requests", ua: "python-requests/2.31.0", device: "Bot", browser: "python-requests", os: Unknown, bot: true, browserVersion: "2.31.0"},
	{name: "aiohttp", ua: "Python/3.11 aiohttp/3.9.5", device: "Bot", browser: "aiohttp", os: Unknown, bot: true, browserVersion: "3.9.5"},
	{name: "python-urllib", ua: "Python-urllib/3.12", device: "Bot", browser: "Python-urllib", os: Unknown, bot: true},
	{name: "okhttp", ua: "okhttp/4.12.0", device: "Bot", browser: "okhttp", os: Unknown, bot: true, browserVersion: "4.12.0"},
	{name: "axios", ua: "axios/1.6.8", device: "Bot", browser: "axios", os: Unknown, bot: true},
	{name: "node-fetch", ua: "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", device: "Bot", browser: "node-fetch", os: Unknown, bot: true},
	{name: "java", ua: "Java/17.0.10", device: "Bot", browser: "Java", os: Unknown, bot: true, browserVersion: "17.0.10"},
	{name: "apache httpclient", ua: "Apache-HttpClient/4.5.14 (Java/17.0.10)", device: "Bot", browser: "Apache-HttpClient", os: Unknown, bot: true},
	{name: "postman", ua: "PostmanRuntime/7.37.3", device: "Bot", browser: "PostmanRuntime", os: Unknown, bot: true},
	{name: "libwww-perl", ua: "libwww-perl/6.72", device: "Bot", browser: "libwww-perl", os: Unknown, bot: true},
	{name: "headless chrome", ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36",
		device: "Bot", browser: "HeadlessChrome", os: "Linux", bot: true},
	{name: "empty", ua: "", device: "Bot", browser: Unknown, os: Unknown, bot: true},
	{name: "long-tail crawler (crawlerdetect list)", ua: "Mozilla/5.0 (compatible; SeznamBot/4.0; +https://o-seznam.cz/napoveda/vyhledavani/en/seznambot-crawler/)",
		device: "Bot", os: Unknown, bot: true},
	{name: "generic spider (crawlerdetect list)", ua: "Mozilla/5.0 (compatible; MojeekBot/0.11; +https://www.mojeek.com/bot.html)",
		device: "Bot", os: Unknown, bot: true},
}

func TestUserAgentCorpus(t *testing.T) {
	t.Parallel()
	if len(uaCorpus) < 60 {
		t.Fatalf("corpus has %d agents, want at least 60", len(uaCorpus))
	}
	e := newTestEnricher(t, Options{})
	for _, c := range uaCorpus {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := e.Enrich(newRequest("GET", "203.0.113.9:1234", c.ua), testNow)
			check := func(field, got, want string, always bool) {
				t.Helper()
				if (always || want != "") && got != orUnknown(want) {
					t.Errorf("%s = %q, want %q\nUA: %s", field, got, orUnknown(want), c.ua)
				}
			}
			check("device", in.Device, c.device, true)
			check("os", in.OS, c.os, true)
			check("browser", in.Browser, c.browser, c.browser != "" || !c.bot)
			check("deviceVendor", in.DeviceVendor, c.vendor, false)
			check("deviceModel", in.DeviceModel, c.model, false)
			check("browserVersion", in.BrowserVersion, c.browserVersion, false)
			check("engine", in.Engine, c.engine, false)
			check("engineVersion", in.EngineVersion, c.engineVersion, false)
			check("osVersion", in.OSVersion, c.osVersion, false)
			check("cpuArchitecture", in.CPUArchitecture, c.cpu, false)
			if in.Bot != c.bot {
				t.Errorf("bot = %v, want %v\nUA: %s", in.Bot, c.bot, c.ua)
			}
			if in.UA != c.ua {
				t.Errorf("ua = %q, want the raw header", in.UA)
			}
			assertNoEmptyStrings(t, in)
		})
	}
}
