"""Tables behind :mod:`filterlog.demo`: names, the school day, sites and user agents.

The generator in ``demo.py`` is an algorithm over these tables; keeping the data here lets a
reader change what a demo day looks like (another site, another planted behaviour) without
touching the vectorised code. Everything here is plain data, read once per run; the
planted misuse and its decoys are in :mod:`filterlog.demo.planted`.

Hosts were chosen to look like a UK secondary school's day. Background sites are
deliberately misuse-free: non-business sites carry no weight inside lessons, and no
background host is on an adult, gambling, VPN/proxy or hacking list. The planted
scenarios use real category members (UT1 ``vpn``, ``redirector``,
``gambling``, ``agressif``, ``hacking``, ``audio-video`` ...) so that list-based detectors
can find them. Tables are laid out by hand, so the formatter leaves them alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

SCHOOL_DOMAIN = "oakfieldacademy.org.uk"
"""The fictional school's own web site."""

SCHOOL_TENANT = "oakfieldacademy"
"""The school's Microsoft 365 tenant name (SharePoint / OneDrive host prefix)."""

FIRST_NAMES = """
    adam aisha alex alfie amelia amir amy archie ava ben bethany callum charlie chloe daniel david ella ellie
    emily emma ethan evie fatima finley freddie george grace hannah harry harvey isabella isla jack jacob james
    jasmine jessica joseph joshua katie kai layla leo lily logan lucy luke maisie mason matthew mia millie
    mohammed molly noah olivia oliver oscar phoebe poppy priya rachel reuben riley rosie ruby ryan sam sarah
    scarlett sienna sophie thomas toby tyler william yusuf zara zain paul helen karen mark claire andrew julie
    simon nicola richard joanne stephen louise
""".split()

SURNAMES = """
    smith jones taylor brown williams wilson johnson davies patel robinson wright thompson evans walker white
    roberts green hall thomas clarke jackson wood harris edwards turner martin cooper hill ward hughes moore
    clark king harrison lewis baker lee allen morris khan scott watson davis parker james bennett young phillips
    richardson mitchell bailey carter cook singh shaw bell collins morgan kelly begum miller cox hussain marshall
    simpson price anderson adams wilkinson ali ahmed foster ellis murphy chapman mason gray richards webb
    griffiths hunt palmer campbell holmes mills rogers barnes knight matthews barker powell stevens kaur fisher
    butler dixon russell harvey pearson graham fletcher okafor nowak kowalski obrien mcdonald fraser rahman
    chowdhury
""".split()

# --- the school day (local time) ------------------------------------------------------------

LESSONS = (("08:30", "10:30"), ("10:50", "12:10"), ("13:00", "15:30"))
"""Working hours minus breaks, as in the default site config."""
# Activity through the day, relative (piecewise linear between the points)
# fmt: off
PUPIL_CURVE = (("00:00", 0), ("07:40", 0), ("08:10", .25), ("08:25", .9), ("08:30", 1), ("10:28", 1), ("10:31", .75),
               ("10:49", .75), ("10:52", 1), ("12:08", 1), ("12:11", 1.4), ("12:58", 1.4), ("13:01", 1), ("15:28", 1),
               ("15:32", .45), ("16:30", .2), ("17:15", .04), ("18:00", 0), ("23:59", 0))
STAFF_CURVE = (("00:00", 0), ("06:45", 0), ("07:30", .6), ("08:15", 1), ("12:10", 1.15), ("13:00", 1.15), ("15:30", 1),
               ("16:30", .8), ("17:30", .35), ("18:30", .08), ("20:00", .02), ("22:00", 0), ("23:59", 0))
# fmt: on

YEAR_GROUPS = ("year7", "year8", "year9", "year10", "year11", "year12", "year13")
YEAR_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.6, 0.55)

# --- devices and user agents --------------------------------------------------------------

_CHROME = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36"
_SAFARI = "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6"

# fmt: off
DEVICE_KINDS: tuple[tuple[str, str, bool], ...] = (
    # (device-name prefix, browser user agent, runs Windows Update)
    ("PC", f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROME}", True),
    ("CB", f"Mozilla/5.0 (X11; CrOS x86_64 16328.65.0) {_CHROME}", False),
    ("LT", f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROME} Edg/141.0.0.0", True),
    ("IPAD", f"Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) {_SAFARI} Mobile/15E148 Safari/604.1", False),
    ("MAC", f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_SAFARI} Safari/605.1.15", False),
    ("PC", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:144.0) Gecko/20100101 Firefox/144.0", True),
)
# fmt: on
PUPIL_DEVICE_WEIGHTS = (0.52, 0.38, 0.0, 0.05, 0.0, 0.05)
STAFF_DEVICE_WEIGHTS = (0.2, 0.0, 0.55, 0.1, 0.1, 0.05)

OS_UPDATE_UAS = (
    "Microsoft-Delivery-Optimization/10.0",
    "Windows-Update-Agent/1023.805.1022.0 Client-Protocol/2.71",
    "Microsoft BITS/7.8",
)
APP_UAS = (
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18129; Pro)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Teams/25290.205.4069.4894 "
    "Chrome/130.0.6723.191 Electron/33.2.1 Safari/537.36",
    "OneDriveSyncEngine/25.189.0928.0002",
)

# --- resource templates ---------------------------------------------------------------------
# A template is (path, path suffix, kind, mime type). "{id}" in the path becomes a random token
# per request (a second "{id}" is fixed per template); the suffix follows it.

# fmt: off
CODES = ("TCP_MISS/200", "TCP_HIT/200", "TCP_MEM_HIT/200", "TCP_REFRESH_UNMODIFIED/304", "TCP_IMS_HIT/304",
         "TCP_MISS/304", "TCP_MISS/204", "TCP_MISS/302", "TCP_MISS/404", "TCP_MISS_ABORTED/000", "TCP_MISS/206",
         "TCP_REFRESH_MODIFIED/200", "TCP_MISS/500", "TCP_TUNNEL/200", "NONE/503", "TCP_DENIED/403", "TCP_DENIED/407")
_STATIC = {"TCP_MISS/200": .5, "TCP_HIT/200": .15, "TCP_MEM_HIT/200": .1, "TCP_REFRESH_UNMODIFIED/304": .08,
           "TCP_IMS_HIT/304": .06, "TCP_MISS/304": .08, "TCP_MISS/404": .01, "TCP_REFRESH_MODIFIED/200": .02}
# per kind of resource: status probabilities; reply bytes (median, sigma, cap); elapsed ms (median, sigma, cap)
KIND_STATS: dict[str, tuple[dict[str, float], tuple[float, float, float], tuple[float, float, float]]] = {
    "page": ({"TCP_MISS/200": .86, "TCP_MISS/302": .05, "TCP_MISS/304": .03, "TCP_REFRESH_UNMODIFIED/304": .02,
              "TCP_MISS/404": .01, "TCP_MISS_ABORTED/000": .005, "TCP_REFRESH_MODIFIED/200": .015,
              "TCP_MISS/500": .01}, (35e3, .8, 2e6), (180, .9, 30e3)),
    "script": (_STATIC, (40e3, 1.0, 3e6), (60, 1.0, 20e3)),
    "style": (_STATIC, (18e3, .9, 1e6), (50, 1.0, 20e3)),
    "image": (_STATIC, (20e3, 1.2, 5e6), (45, 1.1, 20e3)),
    "font": (_STATIC, (35e3, .5, 3e5), (40, .8, 10e3)),
    "json": ({"TCP_MISS/200": .91, "TCP_MISS/204": .04, "TCP_MISS/304": .03, "TCP_MISS/404": .01,
              "TCP_MISS/500": .01}, (2.5e3, 1.2, 5e5), (90, .9, 30e3)),
    "beacon": ({"TCP_MISS/204": .55, "TCP_MISS/200": .45}, (420, .3, 3e3), (30, .6, 5e3)),
    "media": ({"TCP_MISS/206": .72, "TCP_MISS/200": .26, "TCP_MISS_ABORTED/000": .02}, (1.2e6, .7, 8e6),
              (700, .8, 30e3)),
    "update": ({"TCP_MISS/206": .45, "TCP_MISS/200": .3, "TCP_HIT/200": .2, "TCP_REFRESH_UNMODIFIED/304": .05},
               (1.2e6, 1.3, 150e6), (3000, 1.2, 600e3)),
    "connect": ({"TCP_TUNNEL/200": .993, "NONE/503": .007}, (30e3, 1.6, 40e6), (12e3, 1.5, 1.5e6)),
}
# status -> fixed reply size range (error and block pages, empty replies)
FIXED_BYTES = {"/304": (180, 420), "/204": (250, 350), "/302": (300, 900), "/404": (400, 3000), "/000": (0, 1),
               "/403": (3400, 4100), "/407": (3900, 4200), "/503": (3800, 4200), "/500": (900, 4000)}
NO_TOKEN = ("sex", "xx", "porn", "nud", "cum", "fuck", "ass", "tit", "kill", "die", "gun", "bomb", "isis", "nazi",
            "hate", "rape", "harm", "cut", "hack", "crack", "vpn", "tor", "proxy", "bet", "nmap")
"""Substrings a random URL token never contains, so keyword rules cannot fire on background noise."""
# fmt: on
_NOT_FORWARDED = ("TCP_HIT", "TCP_MEM", "TCP_IMS", "TCP_DENIED", "NONE")
"""Statuses Squid answers itself (cache hits, denials): logged with HIER_NONE/-."""


def server_ip(host: str) -> str:
    """A stable, public-looking server address for ``host`` (the host itself if it is an IP)."""
    if host.replace(".", "").isdigit():
        return host
    h = hashlib.blake2b(host.encode(), digest_size=4).digest()
    first = (13, 20, 23, 34, 35, 52, 104, 142, 151, 157, 172, 185, 199, 216)[h[0] % 14]
    return f"{first}.{h[1] % 200 + 16}.{h[2]}.{h[3] % 253 + 1}"


def forwarded(code: str) -> bool:
    """Whether Squid fetched the reply from a server (else ``HIER_NONE/-``)."""
    return not code.startswith(_NOT_FORWARDED)


KINDS = ("page", "script", "style", "image", "font", "json", "beacon", "media", "update", "connect")

# fmt: off
GENERIC_ASSETS: tuple[tuple[str, str, str, str], ...] = (
    ("/static/js/main.{id}", ".js", "script", "application/javascript"),
    ("/assets/js/vendor.{id}", ".min.js", "script", "application/javascript"),
    ("/_next/static/chunks/{id}", ".js", "script", "application/javascript"),
    ("/static/css/main.{id}", ".css", "style", "text/css"),
    ("/assets/css/site.{id}", ".min.css", "style", "text/css"),
    ("/images/{id}", ".jpg", "image", "image/jpeg"),
    ("/img/{id}", ".png", "image", "image/png"),
    ("/media/{id}", ".webp", "image", "image/webp"),
    ("/icons/{id}", ".svg", "image", "image/svg+xml"),
    ("/favicon.ico", "", "image", "image/x-icon"),
    ("/fonts/{id}", ".woff2", "font", "font/woff2"),
    ("/api/v1/{id}", "", "json", "application/json"),
    ("/ajax/{id}", ".json", "json", "application/json"),
)
GENERIC_ASSET_WEIGHTS = (10, 5, 5, 4, 3, 12, 9, 6, 4, 2, 3, 7, 3)

HOST_TEMPLATES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    # third parties
    "www.google-analytics.com": (("/g/collect?v=2&tid=G-{id}", "&en=page_view", "beacon", "image/gif"),
                                 ("/analytics.js", "", "script", "text/javascript")),
    "www.googletagmanager.com": (("/gtag/js?id=G-{id}", "", "script", "application/javascript"),),
    "securepubads.g.doubleclick.net": (("/tag/js/gpt.js", "", "script", "text/javascript"),
                                       ("/pagead/managed/js/gpt/m202611130101/pubads_impl.js", "", "script",
                                        "text/javascript")),
    "pagead2.googlesyndication.com": (("/pagead/js/adsbygoogle.js?client=ca-pub-{id}", "", "script",
                                       "text/javascript"),
                                      ("/pagead/show_ads_impl.js", "", "script", "text/javascript")),
    "c.amazon-adsystem.com": (("/aax2/apstag.js", "", "script", "text/javascript"),),
    "acdn.adnxs.com": (("/ast/ast.js", "", "script", "application/javascript"),),
    "cdn.taboola.com": (("/libtrc/{id}/loader.js", "", "script", "application/javascript"),),
    "static.hotjar.com": (("/c/hotjar-{id}.js?sv=6", "", "script", "application/javascript"),),
    "cdn.cookielaw.org": (("/scripttemplates/otSDKStub.js", "", "script", "application/javascript"),),
    "bat.bing.com": (("/bat.js", "", "script", "application/javascript"),),
    "fonts.googleapis.com": (("/css2?family=Roboto:wght@400;700&display=swap", "", "style", "text/css"),),
    "fonts.gstatic.com": (("/s/roboto/v32/{id}", ".woff2", "font", "font/woff2"),),
    "cdnjs.cloudflare.com": (("/ajax/libs/jquery/3.7.1/jquery.min.js", "", "script", "application/javascript"),),
    "cdn.jsdelivr.net": (("/npm/bootstrap@5.3.3/dist/js/bootstrap.bundle.min.js", "", "script",
                          "application/javascript"),),
    "ajax.googleapis.com": (("/ajax/libs/jquery/3.6.0/jquery.min.js", "", "script", "text/javascript"),),
    # streaming and site-specific assets
    "i.ytimg.com": (("/vi/{id}", "/hqdefault.jpg", "image", "image/jpeg"),),
    "rr3---sn-aigl6ned.googlevideo.com": (("/videoplayback?id=o-{id}", "&itag=243&mime=video%2Fwebm&rn=3", "media",
                                           "video/webm"),),
    "rr5---sn-aigzrn7e.googlevideo.com": (("/videoplayback?id=o-{id}", "&itag=251&mime=audio%2Fwebm&rn=4", "media",
                                           "audio/webm"),),
    "v16-webapp-prime.tiktok.com": (("/video/tos/useast2a/{id}", "/?mime_type=video_mp4", "media", "video/mp4"),),
    "upload.wikimedia.org": (("/wikipedia/commons/thumb/{id}", ".png", "image", "image/png"),),
    # OS updates (plain http, like the real services)
    "2.tlu.dl.delivery.mp.microsoft.com": (("/filestreamingservice/files/{id}", "?P1=1763&P2=404&P3=2&P4=", "update",
                                            "application/octet-stream"),),
    "7.tlu.dl.delivery.mp.microsoft.com": (("/filestreamingservice/files/{id}", "?P1=1763&P2=404&P3=2&P4=", "update",
                                            "application/octet-stream"),),
    "download.windowsupdate.com": (("/c/msdownload/update/software/secu/2026/10/windows11.0-kb50{id}", "-x64.cab",
                                    "update", "application/vnd.ms-cab-compressed"),
                                   ("/d/msdownload/update/software/defu/2026/11/am_delta_patch_1.421.{id}", ".exe",
                                    "update", "application/octet-stream")),
    "au.download.windowsupdate.com": (("/c/msdownload/update/others/2026/11/{id}", ".cab", "update",
                                       "application/vnd.ms-cab-compressed"),),
    "officecdn.microsoft.com": (("/pr/492350f6-3a01-4f97-b9c0-c7c6ddf67d60/Office/Data/16.0.{id}",
                                 "/stream.x64.x-none.dat", "update", "application/octet-stream"),),
}
# fmt: on


@dataclass(frozen=True)
class Site:
    """A web site a browser visits: its page hosts, asset hosts and page paths."""

    name: str
    pages: tuple[str, ...]
    assets: tuple[str, ...]
    paths: tuple[str, ...]
    work: float
    """Relative popularity inside lessons (0 for non-business sites)."""
    free: float
    """Relative popularity before school, at break and lunch, and after school."""
    ads: bool = False
    """Pages carry display adverts (which the filter sometimes blocks)."""


_QUERIES = (
    "photosynthesis word equation", "how to find the area of a circle", "french past tense avoir",
    "periodic table groups", "macbeth act 1 scene 7 summary", "pythagoras theorem examples",
    "simultaneous equations", "river erosion processes", "spanish numbers 1-100", "python for loop",
    "how to cite a website harvard", "montserrat volcano case study", "romeo and juliet themes",
    "kinetic energy formula", "osmosis required practical", "electrolysis of brine", "plate tectonics diagram",
    "cold war timeline", "animal cell diagram labelled", "how to write a persuasive speech",
    "aerobic respiration equation", "density formula", "ks3 fractions worksheet", "weather tomorrow",
    "half term dates 2026", "ucas personal statement tips", "a level biology specification aqa",
    "converting fractions to decimals", "the tempest context", "tropical rainforest layers",
    "how to make a pie chart in excel", "capital of australia", "an inspector calls quotes",
    "standard form calculator", "germany 1918 to 1939 revision", "hooke's law practical", "ohm's law",
    "past papers edexcel maths", "global warming causes", "how to revise for mocks",
)  # fmt: skip


def _search(prefix: str, suffix: str) -> tuple[str, ...]:
    """Search-result paths for the innocent school queries above."""
    return tuple(prefix + q.replace("'", "%27").replace(" ", "+") + suffix for q in _QUERIES)


_MS = SCHOOL_TENANT
# fmt: off
SITES: tuple[Site, ...] = (
    Site("google", ("www.google.com", "www.google.co.uk"),
         ("www.gstatic.com", "ssl.gstatic.com", "apis.google.com", "fonts.gstatic.com"),
         ("/", "/webhp", *_search("/search?q=", "&sourceid=chrome&ie=UTF-8")), 40, 25),
    Site("bitesize", ("www.bbc.co.uk",), ("static.files.bbci.co.uk", "ichef.bbci.co.uk"),
         ("/bitesize", "/bitesize/subjects/z{id}", "/bitesize/guides/z{id}/revision/1", "/bitesize/articles/z{id}",
          "/bitesize/topics/z{id}", "/bitesize/examspecs/z{id}"), 35, 6),
    Site("outlook", ("outlook.office.com", "outlook.office365.com"), ("res.cdn.office.net", "res-1.cdn.office.net"),
         ("/mail/", "/mail/inbox/id/{id}", "/calendar/view/week", "/owa/"), 22, 10),
    Site("office", ("www.office.com",), ("res-1.cdn.office.net", "aadcdn.msauth.net"),
         ("/", "/?auth=2", "/launch/word", "/launch/powerpoint"), 8, 2),
    Site("ms-login", ("login.microsoftonline.com",), ("aadcdn.msauth.net",),
         ("/common/oauth2/v2.0/authorize?client_id=4765445b-32c6-49b0-83e6-1d93765276ca&redirect_uri=https%3A%2F%2F"
          "www.office.com%2Flandingv2&response_type=code%20id_token&scope=openid%20profile&response_mode=form_post"
          "&nonce={id}", "/common/login", "/kmsi", "/common/reprocess?ctx={id}"), 6, 3),
    Site("teams", ("teams.microsoft.com",), ("statics.teams.cdn.office.net",),
         ("/v2/", "/_#/school/classroom/General?threadId=19:{id}@thread.tacv2", "/_#/calendarv2",
          "/_#/conversations/19:{id}@thread.v2"), 14, 4),
    Site("onedrive", (f"{_MS}-my.sharepoint.com",), ("res-1.cdn.office.net", "spoprod-a.akamaihd.net"),
         ("/personal/{id}/_layouts/15/onedrive.aspx", "/:p:/r/personal/{id}/_layouts/15/Doc.aspx"), 7, 2),
    Site("sharepoint", (f"{_MS}.sharepoint.com",), ("res-1.cdn.office.net", "spoprod-a.akamaihd.net"),
         ("/sites/Science/Shared%20Documents/Forms/AllItems.aspx",
          "/:w:/r/sites/English/_layouts/15/Doc.aspx?sourcedoc={id}"), 5, 1),
    Site("classroom", ("classroom.google.com",), ("www.gstatic.com", "lh3.googleusercontent.com"),
         ("/u/0/h", "/c/{id}", "/c/{id}/a/{id}/details"), 10, 2),
    Site("docs", ("docs.google.com",), ("ssl.gstatic.com", "lh3.googleusercontent.com"),
         ("/document/d/{id}/edit", "/presentation/d/{id}/edit", "/spreadsheets/d/{id}/edit",
          "/forms/d/e/{id}/viewform"), 8, 2),
    Site("drive", ("drive.google.com",), ("ssl.gstatic.com", "lh3.googleusercontent.com"),
         ("/drive/my-drive", "/file/d/{id}/view"), 4, 1),
    Site("oak", ("www.thenational.academy",), ("static.thenational.academy",),
         ("/pupils/years/year-{id}", "/pupils/programmes/{id}/units", "/pupils/lessons/{id}/video",
          "/teachers/lessons/{id}"), 8, 1),
    Site("wikipedia", ("en.wikipedia.org", "en.m.wikipedia.org"), ("upload.wikimedia.org",),
         ("/wiki/Photosynthesis", "/wiki/World_War_I", "/wiki/Plate_tectonics", "/wiki/William_Shakespeare",
          "/wiki/Periodic_table", "/wiki/Industrial_Revolution", "/wiki/Pythagorean_theorem", "/wiki/Climate_change",
          "/wiki/Roman_Empire", "/wiki/Special:Search?search={id}"), 12, 4),
    Site("govuk", ("www.gov.uk",), ("assets.publishing.service.gov.uk",),
         ("/", "/browse/education", "/school-term-holiday-dates", "/government/publications/{id}",
          "/guidance/{id}"), 3, 1),
    Site("seneca", ("app.senecalearning.com",), ("image-v2.cdn.app.senecalearning.com",),
         ("/dashboard", "/classroom/course/{id}/section/{id}/session", "/dashboard/class/{id}/assignments"), 8, 2),
    Site("quizlet", ("quizlet.com",), ("assets.quizlet.com",),
         ("/gb/{id}/flash-cards/", "/latest", "/search?query={id}"), 5, 2),
    Site("kahoot", ("kahoot.it",), ("assets-cdn.kahoot.it",), ("/", "/challenge/{id}", "/join"), 4, 1),
    Site("khan", ("www.khanacademy.org",), ("cdn.kastatic.org",),
         ("/math/algebra", "/science/biology", "/profile/me/courses"), 3, 1),
    Site("mathsisfun", ("www.mathsisfun.com",), (),
         ("/algebra/index.html", "/geometry/circle-area.html", "/numbers/fractions.html"), 4, 1, ads=True),
    Site("corbett", ("corbettmaths.com",), (),
         ("/contents/", "/{id}/", "/2019/09/25/simultaneous-equations-practice-questions/"), 4, 1, ads=True),
    Site("dictionary", ("www.dictionary.com", "www.thesaurus.com"), (), ("/browse/{id}",), 3, 1, ads=True),
    Site("britannica", ("www.britannica.com",), ("cdn.britannica.com",),
         ("/topic/{id}", "/event/World-War-I", "/science/photosynthesis"), 2, 1, ads=True),
    Site("duolingo", ("www.duolingo.com",), ("d35aaqx5ub95lt.cloudfront.net",), ("/learn", "/lesson"), 2, 2),
    Site("canva", ("www.canva.com",), ("static.canva.com",), ("/design/{id}/edit", "/folder/all-designs"), 4, 2),
    Site("satchel", ("www.satchelone.com",), ("static.satchelone.com",), ("/todos/upcoming", "/homeworks/{id}"),
         4, 3),
    Site("school", (f"www.{SCHOOL_DOMAIN}",), (),
         ("/", "/news", "/term-dates", "/curriculum/{id}", "/parents/letters"), 3, 2),
    Site("bing", ("www.bing.com",), ("th.bing.com", "r.bing.com"), _search("/search?q=", "&form=QBLH"), 3, 2),
    Site("microsoft", ("www.microsoft.com",), ("img-prod-cms-rt-microsoft-com.akamaized.net",),
         ("/en-gb/microsoft-365", "/en-gb/windows"), 1, 1),
    Site("metoffice", ("www.metoffice.gov.uk",), (), ("/weather/forecast/{id}",), 1, 2),
    Site("scratch", ("scratch.mit.edu",), ("cdn2.scratch.mit.edu",),
         ("/projects/{id}/editor", "/explore/projects/all"), 2, 1),
    # non-business: in the background only before school, at break and lunch, and after school
    Site("youtube", ("www.youtube.com",),
         ("i.ytimg.com", "rr3---sn-aigl6ned.googlevideo.com", "rr5---sn-aigzrn7e.googlevideo.com", "yt3.ggpht.com"),
         ("/", "/watch?v={id}", "/shorts/{id}", "/feed/subscriptions"), 0, 24),
    Site("tiktok", ("www.tiktok.com",), ("p16-sign-va.tiktokcdn.com", "v16-webapp-prime.tiktok.com"),
         ("/foryou", "/@{id}/video/{id}", "/explore"), 0, 10),
    Site("instagram", ("www.instagram.com",), ("scontent-lhr8-1.cdninstagram.com", "static.cdninstagram.com"),
         ("/", "/reels/{id}/", "/p/{id}/", "/direct/inbox/"), 0, 8),
    Site("snapchat", ("web.snapchat.com",), ("cf-st.sc-cdn.net",), ("/", "/chat"), 0, 3),
    Site("reddit", ("www.reddit.com",), ("styles.redditmedia.com", "preview.redd.it"),
         ("/r/{id}/", "/r/football/comments/{id}/"), 0, 2),
    Site("roblox", ("www.roblox.com",), ("tr.rbxcdn.com", "css.rbxcdn.com"), ("/home", "/games/{id}/", "/discover"),
         0, 6),
    Site("poki", ("poki.com",), ("img.poki-cdn.com", "game-cdn.poki.com"), ("/en/g/{id}", "/"), 0, 5, ads=True),
    Site("coolmath", ("www.coolmathgames.com",), ("assets.coolmathgames.com",), ("/0-{id}", "/"), 0, 4, ads=True),
    Site("amazon", ("www.amazon.co.uk",), ("m.media-amazon.com", "images-eu.ssl-images-amazon.com"),
         ("/", "/s?k={id}", "/dp/B0{id}"), 0, 4),
    Site("ebay", ("www.ebay.co.uk",), ("i.ebayimg.com", "ir.ebaystatic.com"),
         ("/itm/{id}", "/sch/i.html?_nkw={id}"), 0, 2),
    Site("spotify", ("open.spotify.com",), ("open.spotifycdn.com", "i.scdn.co"),
         ("/", "/playlist/{id}", "/album/{id}"), 0, 4),
    Site("bbc-news", ("www.bbc.co.uk",), ("static.files.bbci.co.uk", "ichef.bbci.co.uk"),
         ("/news", "/news/articles/c{id}o", "/sport", "/sport/football/articles/c{id}o"), 0, 8),
    Site("skysports", ("www.skysports.com",), ("e0.365dm.com",), ("/football", "/football/news/{id}"), 0, 3,
         ads=True),
    Site("guardian", ("www.theguardian.com",), ("i.guim.co.uk", "assets.guim.co.uk"), ("/uk", "/football/{id}"),
         0, 2, ads=True),
    Site("pinterest", ("www.pinterest.co.uk",), ("i.pinimg.com",), ("/", "/pin/{id}/"), 0, 2),
)

THIRD_PARTIES: tuple[tuple[str, float, bool], ...] = (
    # (host, weight, is a display-advert host the filter blocks about half the time)
    ("www.google-analytics.com", 10, False), ("www.googletagmanager.com", 8, False),
    ("fonts.googleapis.com", 6, False), ("fonts.gstatic.com", 4, False), ("cdnjs.cloudflare.com", 3, False),
    ("cdn.jsdelivr.net", 2, False), ("ajax.googleapis.com", 2, False), ("static.hotjar.com", 1.5, False),
    ("bat.bing.com", 1, False), ("cdn.cookielaw.org", 2, False),
    ("securepubads.g.doubleclick.net", 6, True), ("pagead2.googlesyndication.com", 6, True),
    ("c.amazon-adsystem.com", 2, True), ("acdn.adnxs.com", 1.5, True), ("cdn.taboola.com", 1.5, True),
)
# fmt: on

SYSTEM_HOSTS = (
    "update.googleapis.com", "safebrowsing.googleapis.com", "clients2.google.com", "clientservices.googleapis.com",
    "edge.microsoft.com", "self.events.data.microsoft.com", "login.live.com", "accounts.google.com",
    "substrate.office.com", "nexus.officeapps.live.com", "optimizationguide-pa.googleapis.com",
)  # fmt: skip
LONG_TUNNEL_HOSTS = (
    "outlook.office365.com", "outlook.office.com", "teams.microsoft.com", "substrate.office.com",
    f"{_MS}-my.sharepoint.com",
)  # fmt: skip
"""Business hosts whose CONNECT tunnels may stay open for hours."""
UPDATE_HOSTS = (
    "2.tlu.dl.delivery.mp.microsoft.com", "7.tlu.dl.delivery.mp.microsoft.com", "download.windowsupdate.com",
    "au.download.windowsupdate.com", "officecdn.microsoft.com",
)  # fmt: skip
STORM_HOSTS = ("outlook.office365.com", "teams.microsoft.com", "nexus.officeapps.live.com", "clients4.google.com")
HTTP_ONLY_HOSTS = frozenset(UPDATE_HOSTS)
"""Hosts fetched over plain http:// (everything else is bumped https://)."""


def hms(text: str) -> float:
    """Convert ``"HH:MM[:SS]"`` local clock time to seconds after midnight."""
    parts = [float(p) for p in text.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0.0)
