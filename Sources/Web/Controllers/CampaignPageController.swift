import Appeals
import Foundation
import Hummingbird

/// The campaign page (`/c/SLUG`), the preview of a supporter's letters, and the request for a confirmation email.
struct CampaignPageController: Sendable {
    let site: WebSite

    func addRoutes(to router: Router<WebContext>) {
        router.get("/c/:slug") { request, context in
            try await firstPage(request, slug: context.parameters.require("slug"))
        }
        router.post("/c/:slug/preview") { request, context in
            try await post(request, context) { campaign, form, language in
                try await checked(request, campaign, form) { supporter in try await preview(campaign, supporter, form, language: language, request: request) }
            }
        }
        router.post("/c/:slug/edit") { request, context in
            try await post(request, context) { campaign, form, language in
                try await page(request, campaign, form: form.supporterForm)
            }
        }
        router.post("/c/:slug/submit") { request, context in
            try await post(request, context) { campaign, form, language in
                try await checked(request, campaign, form) { supporter in try await submit(campaign, supporter, language: language, request: request) }
            }
        }
        router.get("/c/:slug/sent") { request, context in
            let campaign = try await activeCampaign(context.parameters.require("slug"))
            let language = PageLanguage.choose(for: request, campaign: campaign)
            let hours = site.config.web.confirmationHours
            return site.message(site.pages.text("checkHeading", language),
                                [site.pages.text("checkText", language, ["hours": hours]), site.pages.text("checkSpam", language)],
                                language: language, organization: campaign.organization,
                                back: ("/c/\(campaign.slug)?lang=\(language)", site.pages.text("backToCampaign", language)))
        }
    }

    /// The page as a visitor first sees it, from the cache when it is fresh.
    private func firstPage(_ request: Request, slug: String) async throws -> HTML {
        let now = site.now()
        let (token, cookies) = site.forms.token(for: request)
        // The cache is keyed by the language asked for, so a page needs no database read to be served.
        // Both pick the language (`?lang=` unless the campaign lacks it); long headers are not worth a page of their own.
        let wanted = "\(request.uri.queryParameters["lang"] ?? "")|\((request.headers[.acceptLanguage] ?? "").prefix(100))"
        guard slug.utf8.count <= 200 else { throw HTTPError(.notFound) }
        if let page = site.campaignPages.page(slug: slug, language: wanted, now: now) {
            return HTML(body: page.body(token: token), cookies: cookies)
        }
        let campaign = try await activeCampaign(slug)
        let language = PageLanguage.choose(for: request, campaign: campaign)
        let targets = try await site.store.targets(ofCampaign: campaign.slug)
        let page = CampaignPage(site: site, campaign: campaign, language: language, now: now)
        let html = site.pages.render("campaign", page.context(targets: targets, form: SupporterForm(), issues: [], csrf: PageCache.tokenMark))
        return HTML(body: site.campaignPages.store(html, slug: slug, language: wanted, now: now).body(token: token), cookies: cookies)
    }

    /// The page, with the form filled in and its problems listed when a submission was refused.
    func page(_ request: Request, _ campaign: Campaign, form: SupporterForm = SupporterForm(), issues: [InputIssue] = []) async throws -> HTML {
        let language = PageLanguage.choose(for: request, campaign: campaign)
        let targets = try await site.store.targets(ofCampaign: campaign.slug)
        let (token, cookies) = site.forms.token(for: request)
        let page = CampaignPage(site: site, campaign: campaign, language: language, now: site.now())
        let html = site.pages.render("campaign", page.context(targets: targets, form: form, issues: issues, csrf: token))
        // A page holding what someone typed is never cached.
        return HTML(html: html, status: issues.isEmpty ? .ok : .unprocessableContent, cookies: cookies,
                    privatePage: form != SupporterForm())
    }

    /// The checks every form post passes: rate limit, body size, CSRF, a campaign that takes letters. A filled
    /// honeypot field gets the page a person would see next, and nothing is done.
    private func post(_ request: Request, _ context: WebContext,
                      _ body: (Campaign, FormValues, String) async throws -> any ResponseGenerator) async throws -> Response {
        let campaign = try await activeCampaign(context.parameters.require("slug"))
        let language = PageLanguage.choose(for: request, campaign: campaign)
        let form: FormValues
        switch try await site.form(request, context, limit: ("form", site.config.web.formPostsPerAddress), language: language) {
        case .refused(let refusal): return try refusal.response(from: request, context: context)
        case .accepted(let values): form = values
        }
        guard campaign.takesSubmissions(at: site.now()) else {
            return try await page(request, campaign).response(from: request, context: context)
        }
        if !form.text("website").isEmpty {
            site.logger.info("honeypot field filled: request ignored", metadata: ["campaign": "\(campaign.slug)"])
            return Response.seeOther("/c/\(campaign.slug)/sent?lang=\(language)")
        }
        return try await body(campaign, form, language).response(from: request, context: context)
    }

    /// The supporter the form describes, handed to `body`; else the page again with the problems listed.
    private func checked(_ request: Request, _ campaign: Campaign, _ form: FormValues,
                         _ body: (Supporter) async throws -> any ResponseGenerator) async throws -> any ResponseGenerator {
        switch form.supporterForm.supporter(campaignId: campaign.id!, now: site.now()) {
        case .failure(let issues): try await page(request, campaign, form: form.supporterForm, issues: issues.issues)
        case .success(let supporter): try await body(supporter)
        }
    }

    private func preview(_ campaign: Campaign, _ supporter: Supporter, _ form: FormValues, language: String,
                         request: Request) async throws -> any ResponseGenerator {
        let now = site.now()
        let composer = try await site.store.composer(for: campaign.slug, cache: site.composers)
        let targeting = Targeting(try await site.store.targets(ofCampaign: campaign.slug))
        let letters = targeting.targets(for: supporter).map { (target: $0, letter: composer.compose(supporter: supporter, target: $0, now: now)) }
        let (token, cookies) = site.forms.token(for: request)
        let page = CampaignPage(site: site, campaign: campaign, language: language, now: now)
        let html = site.pages.render("preview", page.previewContext(letters: letters, supporter: supporter, form: form.supporterForm, csrf: token))
        return HTML(html: html, cookies: cookies, privatePage: true)
    }

    private func submit(_ campaign: Campaign, _ supporter: Supporter, language: String, request: Request) async throws -> any ResponseGenerator {
        let now = site.now()
        let token = SecretToken.make()
        let submission = Submission(campaignId: campaign.id!, tokenHash: SecretToken.hash(token), supporter: supporter, pageLanguage: language,
                                    createdAt: now, expiresAt: now.addingTimeInterval(Double(site.config.web.confirmationHours) * 3600))
        let email = try ConfirmationEmail(site: site, campaign: campaign, submission: submission, token: token).outboxMessage()
        let limit = site.config.web.emailsPerAddressPerHour
        let outcome: Result<Bool, AppealsError>
        do {
            outcome = .success(try await site.store.storeSubmission(submission, email: email, perEmailPerHour: limit == 0 ? .max : limit, now: now))
        } catch {
            outcome = .failure(error)
        }
        let stored: Bool
        switch outcome {
        case .success(let value): stored = value
        // Paused or closed since the form was checked: the page as it is now.
        case .failure(.conflict): return try await page(request, campaign)
        case .failure(let error): throw error
        }
        guard stored else { return site.tooMany(language) }
        site.outboxWaiting()
        return Response.seeOther("/c/\(campaign.slug)/sent?lang=\(language)")
    }

    /// A campaign the public may see: not a draft.
    private func activeCampaign(_ slug: String) async throws -> Campaign {
        // No such campaign is a page not found; a database that fails is a server error, not a missing page.
        let campaign: Campaign
        do {
            campaign = try await site.store.campaign(slug)
        } catch AppealsError.notFound {
            throw HTTPError(.notFound)
        }
        guard campaign.status != .draft else { throw HTTPError(.notFound) }
        return campaign
    }
}

extension FormValues {
    var supporterForm: SupporterForm {
        var form = SupporterForm()
        form.name = text("name")
        form.email = text("email")
        form.country = text("country")
        form.city = text("city")
        form.language = text("language")
        form.personalNote = self["personal_note"] ?? ""
        form.consent = self["consent"] == "yes"
        return form
    }
}
