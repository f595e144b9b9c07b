import Appeals
import Crypto
import Foundation
import Hummingbird
import Logging

/// Everything the pages share: the store, the templates, the guards and limits, and the outbox's wake-up.
struct WebSite: Sendable {
    let store: any WebStore
    let config: AppConfig
    let pages: Pages
    let countries = CountryList()
    let forms: FormGuard
    let admin: AdminSession
    /// The largest form body accepted, in bytes: a 2,000-character note in any script, percent-encoded, fits.
    let maxBodyBytes = 64 * 1024
    let clients = ClientLimits(window: 600)
    let campaignPages = PageCache()
    let composers = ComposerCache()
    let messageIDs: MessageIDGenerator
    let now: @Sendable () -> Date
    /// Tells the confirmation mailer that an email is waiting.
    let outboxWaiting: @Sendable () -> Void
    let logger: Logger

    /// The message page: a heading, paragraphs, and a link back.
    func message(_ heading: String, _ paragraphs: [String], language: String, status: HTTPResponse.Status = .ok,
                 organization: String? = nil, back: (url: String, text: String)? = nil, links: [[String: String]] = []) -> HTML {
        var context: [String: Any] = ["lang": language, "pageTitle": heading, "heading": heading, "paragraphs": paragraphs, "links": links]
        context["organization"] = organization
        if let back { context["link"] = ["url": back.url, "text": back.text] }
        return HTML(html: pages.render("message", context), status: status, privatePage: true)
    }

    /// A form post, read after the checks every post passes: the client's rate limit (`limit.count` posts per
    /// 10 minutes under `limit.key`; 0: none), the body's size and kind, the CSRF token. Else the page to answer.
    func form(_ request: Request, _ context: WebContext, limit: (key: String, count: Int), language: String) async throws -> FormPost {
        guard clients.admit("\(limit.key)|\(context.clientAddress)", limit: limit.count, now: now()) else { return .refused(tooMany(language)) }
        let form = try await FormValues.read(request, limit: maxBodyBytes)
        guard forms.admits(request, form: form) else { return .refused(formExpired(language)) }
        return .accepted(form)
    }

    /// The page for a form whose CSRF token is missing or wrong.
    func formExpired(_ language: String) -> HTML {
        message(pages.text("formExpiredHeading", language), [pages.text("formExpiredText", language)], language: language, status: .forbidden)
    }

    func tooMany(_ language: String) -> HTML {
        message(pages.text("tooManyHeading", language), [pages.text("tooManyText", language)], language: language, status: .tooManyRequests)
    }
}

/// A form post that passed the checks, or the page refusing it.
enum FormPost {
    case accepted(FormValues)
    case refused(HTML)
}
