package dashboard

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/pages"
)

// The page editor works without JavaScript: "Add block", "Move up", "Move
// down", "Remove" and the form-field buttons are submit buttons named "op"
// that send the whole editor back; the server applies the operation to the
// posted state and shows the editor again, saving nothing. Only "Save page"
// saves, through the pages service (the API's validation).

type blockRow struct {
	Index                   int
	Type                    string
	Text, URL, Alt, Label   string
	Error                   string
	First, Last             bool
	IsText, IsImage, IsLink bool
}

type formFieldRow struct {
	Index             int
	Name, Label, Type string
	Required          bool
}

type pageEditor struct {
	ID                        string
	Title, Slug, Description  string
	Published                 bool
	Theme                     pages.Theme
	Blocks                    []blockRow
	FormOn                    bool
	Fields                    []formFieldRow
	SubmitLabel, SuccessMsg   string
	RedirectURL               string
	PublicURL                 string
	Errors                    formErrors
	BlockTypes, FieldTypes    []string
	NewBlockType, NewFieldTyp string
}

var blockTypes = []string{pages.BlockHeading, pages.BlockText, pages.BlockImage, pages.BlockButton}
var formFieldTypes = []string{"text", "email", "tel", "textarea", "checkbox"}

func editorOf(p pages.Page, publicURL string) pageEditor {
	e := pageEditor{ID: p.ID, Title: p.Title, Slug: p.Slug, Description: str(p.Description), Published: p.Published,
		Theme: p.Theme, PublicURL: publicURL}
	for _, b := range p.Blocks {
		e.Blocks = append(e.Blocks, blockRow{Type: b.Type, Text: str(b.Text), URL: str(b.URL), Alt: str(b.Alt), Label: str(b.Label)})
	}
	if p.Form != nil {
		e.FormOn = true
		e.SubmitLabel, e.SuccessMsg, e.RedirectURL = p.Form.SubmitLabel, p.Form.SuccessMessage, str(p.Form.RedirectURL)
		for _, f := range p.Form.Fields {
			e.Fields = append(e.Fields, formFieldRow{Name: f.Name, Label: f.Label, Type: f.Type, Required: f.Required})
		}
	}
	return e
}

// readEditor reads the posted editor state.
func readEditor(v url.Values) pageEditor {
	e := pageEditor{Title: v.Get("title"), Slug: strings.TrimSpace(v.Get("slug")), Description: v.Get("description"),
		Published: v.Get("published") == "on",
		Theme:     pages.Theme{Background: v.Get("theme.background"), Text: v.Get("theme.text"), Accent: v.Get("theme.accent")},
		FormOn:    v.Get("form") == "on", SubmitLabel: v.Get("form.submitLabel"), SuccessMsg: v.Get("form.successMessage"),
		RedirectURL: strings.TrimSpace(v.Get("form.redirectUrl"))}
	n, _ := strconv.Atoi(v.Get("blocks"))
	for i := 0; i < n && i < pages.MaxBlocks+1; i++ {
		p := "block." + strconv.Itoa(i) + "."
		e.Blocks = append(e.Blocks, blockRow{Type: v.Get(p + "type"), Text: v.Get(p + "text"), URL: strings.TrimSpace(v.Get(p + "url")),
			Alt: v.Get(p + "alt"), Label: v.Get(p + "label")})
	}
	n, _ = strconv.Atoi(v.Get("fields"))
	for i := 0; i < n && i < pages.MaxFormFields+1; i++ {
		p := "field." + strconv.Itoa(i) + "."
		e.Fields = append(e.Fields, formFieldRow{Name: strings.TrimSpace(v.Get(p + "name")), Label: v.Get(p + "label"),
			Type: v.Get(p + "type"), Required: v.Get(p+"required") == "on"})
	}
	e.NewBlockType, e.NewFieldTyp = v.Get("newBlock"), v.Get("newField")
	return e
}

// apply runs an editor operation ("add-block", "up-3", "remove-field-1" …);
// it reports whether op was one.
func (e *pageEditor) apply(op string) bool {
	idx := func(prefix string) (int, bool) {
		s, ok := strings.CutPrefix(op, prefix)
		if !ok {
			return 0, false
		}
		i, err := strconv.Atoi(s)
		return i, err == nil
	}
	switch {
	case op == "refresh": // a block's type was changed: show its fields
	case op == "add-block":
		t := e.NewBlockType
		if !slices.Contains(blockTypes, t) {
			t = pages.BlockText
		}
		e.Blocks = append(e.Blocks, blockRow{Type: t})
	case op == "add-field":
		t := e.NewFieldTyp
		if !slices.Contains(formFieldTypes, t) {
			t = "text"
		}
		e.FormOn = true
		e.Fields = append(e.Fields, formFieldRow{Type: t})
	default:
		if i, ok := idx("remove-field-"); ok && i >= 0 && i < len(e.Fields) {
			e.Fields = slices.Delete(e.Fields, i, i+1)
		} else if i, ok := idx("up-"); ok && i > 0 && i < len(e.Blocks) {
			e.Blocks[i-1], e.Blocks[i] = e.Blocks[i], e.Blocks[i-1]
		} else if i, ok := idx("down-"); ok && i >= 0 && i < len(e.Blocks)-1 {
			e.Blocks[i+1], e.Blocks[i] = e.Blocks[i], e.Blocks[i+1]
		} else if i, ok := idx("remove-"); ok && i >= 0 && i < len(e.Blocks) {
			e.Blocks = slices.Delete(e.Blocks, i, i+1)
		} else {
			return false
		}
	}
	return true
}

func optText(s string) *string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return &s
}

// blocks are the editor's blocks with exactly the fields of their type.
func (e pageEditor) blocks() []pages.Block {
	out := make([]pages.Block, 0, len(e.Blocks))
	for _, b := range e.Blocks {
		pb := pages.Block{Type: b.Type}
		text, u, alt, label := b.Text, b.URL, b.Alt, b.Label
		switch b.Type {
		case pages.BlockHeading, pages.BlockText:
			pb.Text = &text
		case pages.BlockImage:
			pb.URL, pb.Alt = &u, &alt
		case pages.BlockButton:
			pb.Label, pb.URL = &label, &u
		}
		out = append(out, pb)
	}
	return out
}

func (e pageEditor) form() *pages.Form {
	if !e.FormOn {
		return nil
	}
	f := &pages.Form{SubmitLabel: e.SubmitLabel, SuccessMessage: e.SuccessMsg, RedirectURL: optText(e.RedirectURL), Fields: []pages.FormField{}}
	for _, fd := range e.Fields {
		f.Fields = append(f.Fields, pages.FormField{Name: fd.Name, Label: fd.Label, Type: fd.Type, Required: fd.Required})
	}
	return f
}

// finish numbers the rows for the template.
func (e *pageEditor) finish() {
	e.BlockTypes, e.FieldTypes = blockTypes, formFieldTypes
	for i := range e.Blocks {
		b := &e.Blocks[i]
		b.Index, b.First, b.Last = i, i == 0, i == len(e.Blocks)-1
		b.IsText = b.Type == pages.BlockHeading || b.Type == pages.BlockText
		b.IsImage = b.Type == pages.BlockImage
		b.IsLink = b.Type == pages.BlockButton
	}
	for i := range e.Fields {
		e.Fields[i].Index = i
	}
	def := pages.DefaultTheme()
	if e.Theme.Background == "" {
		e.Theme.Background = def.Background
	}
	if e.Theme.Text == "" {
		e.Theme.Text = def.Text
	}
	if e.Theme.Accent == "" {
		e.Theme.Accent = def.Accent
	}
}

var blockAt = regexp.MustCompile(`^blocks\[(\d+)\]`)

// pageErrors places a service message: on its block, on a named field, or
// above the form.
func (e *pageEditor) pageErrors(err error) error {
	fe, ferr := fieldErrors(err, "title", "slug", "description", "theme", "form")
	if ferr != nil {
		return ferr
	}
	if m := blockAt.FindStringSubmatch(fe.General); m != nil {
		if i, _ := strconv.Atoi(m[1]); i < len(e.Blocks) {
			e.Blocks[i].Error, fe.General = fe.General, ""
		}
	}
	e.Errors = fe
	return nil
}

func (d *Dashboard) showEditor(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, e pageEditor) error {
	e.finish()
	title := "Edit page"
	if e.ID == "" {
		title = "Create page"
	}
	d.render(w, r, c, status, "page_form", title, "pages", e)
	return nil
}

func (d *Dashboard) newPageForm(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	e := pageEditor{Theme: pages.DefaultTheme(), Blocks: []blockRow{{Type: pages.BlockHeading}}}
	return d.showEditor(w, r, c, http.StatusOK, e)
}

func (d *Dashboard) editPageForm(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	p, err := d.Pages.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return d.showEditor(w, r, c, http.StatusOK, editorOf(p, p.URL))
}

func (d *Dashboard) savePage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	e := readEditor(r.PostForm)
	id := r.PathValue("id")
	if id != "" {
		p, err := d.Pages.Get(r.Context(), c.ProjectID(), id)
		if err != nil {
			return err
		}
		e.ID, e.PublicURL = p.ID, p.URL
	}
	if op := r.PostForm.Get("op"); op != "" {
		if !e.apply(op) {
			return errs.BadInput("unknown editor operation")
		}
		return d.showEditor(w, r, c, http.StatusOK, e)
	}
	theme := e.Theme
	var (
		p   pages.Page
		err error
	)
	if id == "" {
		p, err = d.Pages.Create(r.Context(), c.ProjectID(), pages.CreateRequest{Slug: optText(e.Slug), Title: e.Title,
			Description: optText(e.Description), Blocks: e.blocks(), Form: e.form(), Theme: &theme, Published: e.Published})
	} else {
		u := pages.UpdateRequest{Title: pages.Some(e.Title), Blocks: pages.Some(e.blocks()), Theme: pages.Some(&theme),
			Published: pages.Some(e.Published)}
		if e.Slug != "" {
			u.Slug = pages.Some(e.Slug)
		}
		if ds := optText(e.Description); ds != nil {
			u.Description = pages.Some(*ds)
		} else {
			u.Description = pages.Null[string]()
		}
		if f := e.form(); f != nil {
			u.Form = pages.Some(f)
		} else {
			u.Form = pages.Null[*pages.Form]()
		}
		p, err = d.Pages.Update(r.Context(), c.ProjectID(), id, u)
	}
	if err != nil {
		if ferr := e.pageErrors(err); ferr != nil {
			return ferr
		}
		return d.showEditor(w, r, c, statusOf(err), e)
	}
	return redirect(w, r, "/app/pages/"+p.ID, "page-saved")
}

// publishPage publishes or unpublishes a saved page.
func (d *Dashboard) publishPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	pub := r.PostForm.Get("published") == "true"
	p, err := d.Pages.Update(r.Context(), c.ProjectID(), r.PathValue("id"), pages.UpdateRequest{Published: pages.Some(pub)})
	if err != nil {
		return err
	}
	if pub {
		return redirect(w, r, "/app/pages/"+p.ID, "page-published")
	}
	return redirect(w, r, "/app/pages/"+p.ID, "page-unpublished")
}

// previewPage renders a saved page, draft or not, as the public sees it
// (with the page's own security headers); it is not counted as a view.
func (d *Dashboard) previewPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	p, err := d.Pages.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return pages.WriteHTML(w, r, p)
}

func (d *Dashboard) confirmDeletePage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	p, err := d.Pages.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "confirm", "Delete page", "pages", confirmData{What: "page", Name: p.Title,
		Action: "/app/pages/" + p.ID + "/delete", Back: "/app/pages/" + p.ID})
}

func (d *Dashboard) deletePage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if err := d.Pages.Delete(r.Context(), c.ProjectID(), r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, "/app/pages", "page-deleted")
}
