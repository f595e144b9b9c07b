import Appeals
import Foundation
import Hummingbird

/// The links of the confirmation email: `/confirm/TOKEN` (confirm, then the supporter's letters and their
/// status), `/letters/TOKEN`, and `/not-me/TOKEN` ("it wasn't me").
///
/// Opening a link shows a page with one button; only the button's POST changes anything, so that mail
/// scanners that open every link in a message confirm nothing.
struct ConfirmationController: Sendable {
    let site: WebSite

    func addRoutes(to router: Router<WebContext>) {
        router.get("/confirm/:token") { request, context in
            let token = try context.parameters.require("token")
            guard let (submission, campaign) = try await lookUp(token) else { return try unknown(request).response(from: request, context: context) }
            let language = submission.pageLanguage
            if submission.confirmedAt != nil { return Response.seeOther("/letters/\(token)") }
            if submission.expiresAt <= site.now() { return try expired(language).response(from: request, context: context) }
            let count = Targeting(try await site.store.targets(ofCampaign: campaign.slug)).targets(for: submission.supporter(at: submission.createdAt)).count
            let question = site.pages.text("confirmText", language, ["count": count, "name": submission.name, "title": campaign.title])
            return try buttonPage(request, campaign: campaign, language: language, heading: site.pages.text("confirmHeading", language),
                                  question: question, button: site.pages.text("confirmButton", language), action: "/confirm/\(token)",
                                  notMeURL: "/not-me/\(token)").response(from: request, context: context)
        }
        router.post("/confirm/:token") { request, context in
            let token = try context.parameters.require("token")
            guard SecretToken.isWellFormed(token) else { return try unknown(request).response(from: request, context: context) }
            if let refusal = try await checkPost(request, context, language: browserLanguage(request)) { return refusal }
            let now = site.now()
            let hash = SecretToken.hash(token)
            let found = try await site.store.confirmationPlan(tokenHash: hash, now: now, composers: site.composers)
            guard let (submission, campaign, plan) = found else { return try unknown(request).response(from: request, context: context) }
            let language = submission.pageLanguage
            let outcome: Confirmation
            switch plan {
            case .answer(let answer): outcome = answer
            case .confirm(let composer):
                outcome = try await site.store.confirmSubmission(tokenHash: hash, composer: composer, messageIDs: site.messageIDs, now: now)
            }
            switch outcome {
            case .confirmed(let supporterId, let created):
                site.logger.info("supporter confirmed", metadata: ["campaign": "\(campaign.slug)", "supporter": "\(supporterId)", "new": "\(created)"])
                return Response.seeOther("/letters/\(token)" + (created ? "" : "?already=1"))
            case .alreadyConfirmed: return Response.seeOther("/letters/\(token)")
            case .expired: return try expired(language).response(from: request, context: context)
            case .unknown: return try unknown(request).response(from: request, context: context)
            case .campaignClosed:
                return try site.message(site.pages.text("closedHeading", language),
                                        [CampaignPage(site: site, campaign: campaign, language: language, now: now).closedText ?? ""],
                                        language: language, status: .conflict, organization: campaign.organization)
                    .response(from: request, context: context)
            }
        }
        router.get("/letters/:token") { request, context in
            let token = try context.parameters.require("token")
            guard SecretToken.isWellFormed(token),
                  let letters = try await site.store.supporterLetters(tokenHash: SecretToken.hash(token))
            else { return try unknown(request).response(from: request, context: context) }
            let already = request.uri.queryParameters["already"] != nil
            return try LettersPage(site: site, letters: letters, already: already).html.response(from: request, context: context)
        }
        router.get("/not-me/:token") { request, context in
            let token = try context.parameters.require("token")
            guard let (submission, campaign) = try await lookUp(token), submission.confirmedAt == nil else {
                return try unknown(request).response(from: request, context: context)
            }
            let language = submission.pageLanguage
            return try buttonPage(request, campaign: campaign, language: language, heading: site.pages.text("notMeHeading", language),
                                  question: site.pages.text("notMeText", language), button: site.pages.text("notMeButton", language),
                                  action: "/not-me/\(token)", notMeURL: nil).response(from: request, context: context)
        }
        router.post("/not-me/:token") { request, context in
            let token = try context.parameters.require("token")
            guard let (submission, campaign) = try await lookUp(token) else { return try unknown(request).response(from: request, context: context) }
            let language = submission.pageLanguage
            if let refusal = try await checkPost(request, context, language: language) { return refusal }
            let withdrawn = try await site.store.withdrawSubmission(tokenHash: SecretToken.hash(token))
            guard withdrawn else { return try unknown(request).response(from: request, context: context) }
            site.logger.info("submission withdrawn: it wasn't me", metadata: ["campaign": "\(campaign.slug)"])
            return try site.message(site.pages.text("forgottenHeading", language), [site.pages.text("forgottenText", language)],
                                    language: language, organization: campaign.organization).response(from: request, context: context)
        }
    }

    private func lookUp(_ token: String) async throws -> (Submission, Campaign)? {
        guard SecretToken.isWellFormed(token) else { return nil }
        return try await site.store.submission(tokenHash: SecretToken.hash(token))
    }

    /// Rate limit, body size and CSRF for the buttons' posts; `nil` when the post may go on.
    private func checkPost(_ request: Request, _ context: WebContext, language: String) async throws -> Response? {
        guard case .refused(let refusal) = try await site.form(request, context, limit: ("form", site.config.web.formPostsPerAddress),
                                                               language: language) else { return nil }
        return try refusal.response(from: request, context: context)
    }

    private func buttonPage(_ request: Request, campaign: Campaign, language: String, heading: String, question: String, button: String,
                            action: String, notMeURL: String?) -> HTML {
        let (token, cookies) = site.forms.token(for: request)
        var context: [String: Any] = [
            "lang": language, "t": site.pages.texts(language), "pageTitle": heading, "heading": heading, "question": question,
            "button": button, "action": action, "csrf": token, "campaign": ["organization": campaign.organization],
        ]
        context["notMeURL"] = notMeURL
        return HTML(html: site.pages.render("confirm", context), cookies: cookies, privatePage: true)
    }

    /// The browser's language among the pages' own, for pages that belong to no submission.
    private func browserLanguage(_ request: Request) -> String {
        PageLanguage.negotiate(request.headers[.acceptLanguage] ?? "", offered: site.pages.languages.sorted()) ?? "en"
    }

    private func unknown(_ request: Request) -> HTML {
        let language = browserLanguage(request)
        return site.message(site.pages.text("unknownHeading", language), [site.pages.text("unknownText", language)], language: language,
                            status: .notFound)
    }

    private func expired(_ language: String) -> HTML {
        site.message(site.pages.text("expiredHeading", language), [site.pages.text("expiredText", language)], language: language, status: .gone)
    }
}
