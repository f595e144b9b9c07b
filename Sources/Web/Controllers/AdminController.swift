import Appeals
import Foundation
import Hummingbird

/// The organizers' dashboard under `/admin`: nothing but the login form without a session.
struct AdminController: Sendable {
    let site: WebSite

    func addRoutes(to router: Router<WebContext>) {
        router.get("/admin") { request, context in
            guard site.admin.admits(request, now: site.now()) else { return try login(request).response(from: request, context: context) }
            var rows: [(Campaign, CampaignReport, Int)] = []
            for campaign in try await site.store.campaigns() {
                rows.append((campaign, try await site.store.report(campaign: campaign.slug),
                             try await site.store.activity(campaign: campaign.slug, now: site.now(), hours: 1).pendingConfirmations))
            }
            let campaigns = rows.map { campaign, report, pending -> [String: Any] in
                ["slug": campaign.slug, "title": campaign.title, "status": campaign.status.rawValue, "supporters": report.supporters,
                 "queued": report.letters.queued + report.letters.deferred + report.letters.sending, "sent": report.letters.sent,
                 "failed": report.letters.failed, "pending": pending]
            }
            let (token, cookies) = site.forms.token(for: request)
            let html = site.pages.render("admin-home", ["lang": "en", "wide": true, "pageTitle": "Campaigns", "campaigns": campaigns, "csrf": token])
            return try HTML(html: html, cookies: cookies, privatePage: true).response(from: request, context: context)
        }
        router.post("/admin/login") { request, context in
            let form: FormValues
            switch try await site.form(request, context, limit: ("login", site.config.web.loginsPerAddress), language: "en") {
            case .refused(let refusal): return try refusal.response(from: request, context: context)
            case .accepted(let values): form = values
            }
            guard site.admin.isSecret(form["secret"] ?? "") else {
                site.logger.warning("dashboard login refused", metadata: ["client": "\(context.clientAddress)"])
                return try login(request, failed: true).response(from: request, context: context)
            }
            return Response.seeOther("/admin", cookies: [site.admin.cookie(now: site.now())])
        }
        router.post("/admin/logout") { request, context in
            if case .refused(let refusal) = try await site.form(request, context, limit: ("logout", 0), language: "en") {
                return try refusal.response(from: request, context: context)
            }
            return Response.seeOther("/admin", cookies: [AdminSession.loggedOut])
        }
        router.get("/admin/c/:slug") { request, context in
            guard site.admin.admits(request, now: site.now()) else { return Response.seeOther("/admin") }
            let slug = try context.parameters.require("slug")
            let now = site.now()
            // No such campaign is not found; a database that fails is a server error.
            let (campaign, report, activity): (Campaign, CampaignReport, CampaignActivity)
            do {
                (campaign, report, activity) = (try await site.store.campaign(slug), try await site.store.report(campaign: slug),
                                                try await site.store.activity(campaign: slug, now: now, hours: 24))
            } catch AppealsError.notFound {
                throw HTTPError(.notFound)
            }
            let (token, cookies) = site.forms.token(for: request)
            let html = site.pages.render("admin-campaign", AdminCampaignPage(campaign: campaign, report: report, activity: activity).context(csrf: token))
            return try HTML(html: html, cookies: cookies, privatePage: true).response(from: request, context: context)
        }
        for (action, status) in [("pause", CampaignStatus.paused), ("open", .active)] {
            router.post("/admin/c/:slug/\(action)") { request, context in
                guard site.admin.admits(request, now: site.now()) else { return Response.seeOther("/admin") }
                let slug = try context.parameters.require("slug")
                if case .refused(let refusal) = try await site.form(request, context, limit: ("admin", 0), language: "en") {
                    return try refusal.response(from: request, context: context)
                }
                do {
                    _ = try await site.store.setStatus(status, ofCampaign: slug)
                } catch AppealsError.notFound {
                    throw HTTPError(.notFound)
                }
                site.campaignPages.clear()
                site.logger.notice("campaign \(action == "pause" ? "paused" : "opened") from the dashboard", metadata: ["campaign": "\(slug)"])
                return Response.seeOther("/admin/c/\(slug)")
            }
        }
        router.get("/admin/c/:slug/export.csv") { request, context in
            guard site.admin.admits(request, now: site.now()) else { return Response.seeOther("/admin") }
            let slug = try context.parameters.require("slug")
            let csv: String
            do {
                csv = try await site.store.exportText(campaign: slug, spreadsheetSafe: true)
            } catch AppealsError.notFound {
                throw HTTPError(.notFound)
            }
            return Response(status: .ok, headers: [
                .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"\(slug)-letters.csv\"",
            ], body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
    }

    private func login(_ request: Request, failed: Bool = false) -> HTML {
        let (token, cookies) = site.forms.token(for: request)
        let context: [String: Any] = ["lang": "en", "wide": true, "pageTitle": "Organizers' dashboard", "csrf": token, "failed": failed,
                                      "disabled": !site.admin.isEnabled, "env": site.config.web.adminSecretEnv]
        return HTML(html: site.pages.render("admin-login", context), status: failed ? .unauthorized : .ok, cookies: cookies,
                    privatePage: true)
    }
}
