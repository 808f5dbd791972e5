package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"latchkey/core"
	"latchkey/core/api"
	"latchkey/core/api/client"
)

// newClient is the generated client (core/api/client) of the instance,
// authenticated with the token, over the harness's validating transport:
// what it sends and what it gets are checked against the document too.
func (in *instance) newClient(token string) *client.ClientWithResponses {
	in.t.Helper()
	c, err := client.NewClientWithResponses(in.url+api.Prefix, client.WithHTTPClient(in.client),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return nil
		}))
	if err != nil {
		in.t.Fatal(err)
	}
	return c
}

// The client generated from the OpenAPI document drives a real listener:
// projects page by page, an invitation with an Idempotency-Key and its
// retry, the invited person read back, and problems decoded as the
// document types them (a reused key, a missing scope, no token).
func TestGeneratedClient(t *testing.T) {
	in := newInstance(t)
	ctx := context.Background()
	c := in.newClient(in.token())

	var names []string
	params := &client.ListProjectsParams{Limit: ptr(3)}
	for pages := 0; ; pages++ {
		res, err := c.ListProjectsWithResponse(ctx, params)
		if err != nil || res.JSON200 == nil {
			t.Fatalf("list projects: %v, %d %s", err, res.StatusCode(), res.Body)
		}
		for _, p := range res.JSON200.Items {
			names = append(names, p.Name)
		}
		if res.JSON200.NextCursor == nil {
			break
		}
		if pages > 3 {
			t.Fatal("the cursor never ends")
		}
		params.Cursor = res.JSON200.NextCursor
	}
	if len(names) != 4 || names[0] != "Website Redesign" {
		t.Fatalf("projects: %q", names)
	}

	key := &client.InviteParams{IdempotencyKey: ptr("7c0e5d2a-client-test")}
	body := client.Invite{Email: "Pat@Client.test", Role: client.InviteRoleClient, Name: ptr("Pat Doe")}
	first, err := c.InviteWithResponse(ctx, "website-redesign", key, body)
	if err != nil || first.JSON201 == nil {
		t.Fatalf("invite: %v, %d %s", err, first.StatusCode(), first.Body)
	}
	inv := first.JSON201
	if inv.Email != "pat@client.test" || inv.Role != "client" || inv.Portal != "website-redesign" || inv.Link == nil ||
		inv.Link.Mailed == nil || !*inv.Link.Mailed || inv.Link.Url == nil || !strings.Contains(*inv.Link.Url, "/m/") {
		t.Fatalf("invited: %s", first.Body)
	}
	again, err := c.InviteWithResponse(ctx, "website-redesign", key, body)
	if err != nil || again.JSON201 == nil || again.JSON201.InvitationId != inv.InvitationId ||
		again.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %v, %d %v %s", err, again.StatusCode(), again.HTTPResponse.Header, again.Body)
	}
	if n := len(in.MailsTo("pat@client.test", core.MailInvitePortal)); n != 1 {
		t.Fatalf("%d invitations mailed, want 1", n)
	}
	m, err := c.GetMemberWithResponse(ctx, "website-redesign", "pat@client.test")
	if err != nil || m.JSON200 == nil || m.JSON200.Access != client.MemberAccessInvited || m.JSON200.Link != client.MemberLinkActive {
		t.Fatalf("member: %v, %d %s", err, m.StatusCode(), m.Body)
	}

	body.Email = "someone@client.test"
	reused, err := c.InviteWithResponse(ctx, "website-redesign", key, body)
	if err != nil || reused.ApplicationproblemJSON422 == nil || !strings.Contains(reused.ApplicationproblemJSON422.Title, "Idempotency-Key") {
		t.Fatalf("a reused key: %v, %d %s", err, reused.StatusCode(), reused.Body)
	}
	readOnly := in.newClient(in.token(core.ScopeProjectsRead))
	denied, err := readOnly.InviteWithResponse(ctx, "website-redesign", nil, body)
	if err != nil || denied.ApplicationproblemJSON403 == nil || denied.ApplicationproblemJSON403.MissingScope == nil ||
		*denied.ApplicationproblemJSON403.MissingScope != string(core.ScopeMembersWrite) {
		t.Fatalf("without members:write: %v, %d %s", err, denied.StatusCode(), denied.Body)
	}
	anonymous, err := in.newClient("").ListProjectsWithResponse(ctx, nil)
	if err != nil || anonymous.ApplicationproblemJSON401 == nil {
		t.Fatalf("without a token: %v, %d %s", err, anonymous.StatusCode(), anonymous.Body)
	}
	if !in.HasEvent("member.invited", "pat@client.test") || in.HasEvent("member.invited", "someone@client.test") {
		t.Fatal("the audit log does not hold the one invitation carried out")
	}
}

func ptr[T any](v T) *T { return &v }
