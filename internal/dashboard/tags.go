package dashboard

import (
	"net/http"
	"strings"

	"github.com/codeqr/codeqr/internal/tags"
)

// tagsData is the tags screen: every tag with its own rename/colour form.
type tagsData struct {
	Tags   []tags.Tag
	Colors []string
	// Errors are the messages of the form that failed: the new tag's
	// (ErrorID "") or one tag's.
	Errors  formErrors
	ErrorID string
	Name    string
}

func (d *Dashboard) tagsPage(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, data tagsData) error {
	ts, err := d.Tags.List(r.Context(), c.ProjectID())
	if err != nil {
		return err
	}
	data.Tags, data.Colors = ts, tags.Colors
	d.render(w, r, c, status, "tags", "Tags", "links", data)
	return nil
}

func (d *Dashboard) listTags(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	return d.tagsPage(w, r, c, http.StatusOK, tagsData{})
}

// tagError shows the tags screen with the failed form's message.
func (d *Dashboard) tagError(w http.ResponseWriter, r *http.Request, c *reqCtx, err error, id, name string) error {
	fe, ferr := fieldErrors(err)
	if ferr != nil {
		return ferr
	}
	return d.tagsPage(w, r, c, statusOf(err), tagsData{Errors: fe, ErrorID: id, Name: name})
}

// createTag is POST /api/tags.
func (d *Dashboard) createTag(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	req := tags.CreateRequest{Name: strings.TrimSpace(r.PostForm.Get("name")), Color: r.PostForm.Get("color")}
	if _, err := d.Tags.Create(r.Context(), c.ProjectID(), req); err != nil {
		return d.tagError(w, r, c, err, "", req.Name)
	}
	return redirect(w, r, "/app/tags", "tag-created")
}

// updateTag renames or recolours a tag: PATCH /api/tags/{id}.
func (d *Dashboard) updateTag(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	id := r.PathValue("id")
	name, color := r.PostForm.Get("name"), r.PostForm.Get("color")
	if _, err := d.Tags.Update(r.Context(), c.ProjectID(), id, tags.UpdateRequest{Name: &name, Color: &color}); err != nil {
		return d.tagError(w, r, c, err, id, name)
	}
	return redirect(w, r, "/app/tags", "tag-saved")
}

// deleteTag removes a tag from the project and from every link and QR code
// (the page asks first): DELETE /api/tags/{id}.
func (d *Dashboard) deleteTag(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if err := d.Tags.Delete(r.Context(), c.ProjectID(), r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, "/app/tags", "tag-deleted")
}
