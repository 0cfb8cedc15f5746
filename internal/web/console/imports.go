package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
)

type importFormData struct {
	Groups   []model.Group
	Profiles []model.Profile
	Imports  []model.ImportStatus
}

func (c *Console) importFormData(r *http.Request, p *Page) (importFormData, error) {
	var d importFormData
	var err error
	if d.Groups, err = c.dom.Groups.List(r.Context(), *p.Caller); err != nil {
		return d, err
	}
	if d.Profiles, err = c.dom.Profiles.List(r.Context(), *p.Caller); err != nil {
		return d, err
	}
	d.Imports, err = c.dom.Imports.List(r.Context(), *p.Caller)
	return d, err
}

func (c *Console) importForm(w http.ResponseWriter, r *http.Request, p *Page) error {
	d, err := c.importFormData(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data, p.Flash = "Import accounts", "import", d, flashOf(r)
	c.render(w, http.StatusOK, "import", p)
	return nil
}

func (c *Console) importUpload(w http.ResponseWriter, r *http.Request, p *Page) error {
	p.Title, p.Menu, p.Form = "Import accounts", "import", r.PostForm
	f, hdr, err := r.FormFile("file")
	if err == nil {
		defer f.Close()
	}
	if err != nil || hdr.Size == 0 {
		p.Fields["file"] = "choose a CSV file"
	} else {
		st, perr := c.dom.Imports.Upload(r.Context(), hdr.Filename, f, activation.ImportOptions{
			Group: r.PostFormValue("group"), Profile: r.PostFormValue("profile"), Send: r.PostFormValue("send")}, *p.Caller)
		if perr == nil {
			// A small file's check is over before the page opens; a large
			// one's page follows it with a progress bar.
			_, _, perr = c.dom.Imports.AwaitPreview(r.Context(), st.ID, 5*time.Second, *p.Caller)
		}
		if perr == nil {
			p.target = strconv.FormatInt(st.ID, 10)
			redirect(w, r, fmt.Sprintf("/console/imports/%d", st.ID), "")
			return nil
		}
		if err := fieldError(p, perr); err != nil {
			return err
		}
	}
	d, err := c.importFormData(r, p)
	if err != nil {
		return err
	}
	p.Data = d
	c.render(w, http.StatusBadRequest, "import", p)
	return nil
}

type importData struct {
	Preview *model.ImportPreview
	Status  *model.ImportStatus
}

func (c *Console) importPage(w http.ResponseWriter, r *http.Request, p *Page) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := c.dom.Imports.Status(r.Context(), id, *p.Caller)
	if err != nil {
		return err
	}
	d := importData{Status: st}
	if st.State == model.ImportPreviewed {
		if d.Preview, err = c.dom.Imports.PreviewOf(r.Context(), id, *p.Caller); err != nil {
			return err
		}
	}
	p.Title, p.Menu, p.Data, p.Flash = fmt.Sprintf("Import %d", id), "import", d, flashOf(r)
	c.render(w, http.StatusOK, "import_status", p)
	return nil
}

func (c *Console) importConfirm(w http.ResponseWriter, r *http.Request, p *Page) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	// A large file goes on importing as a job on the server; the import
	// page's live part follows its progress.
	_, done, err := c.dom.Imports.ConfirmJob(r.Context(), id, 5*time.Second, *p.Caller)
	if err != nil {
		return err
	}
	f := flashImporting
	if done {
		f = flashImported
	}
	redirect(w, r, fmt.Sprintf("/console/imports/%d", id), f)
	return nil
}

func (c *Console) importCancel(w http.ResponseWriter, r *http.Request, p *Page) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := c.dom.Imports.Cancel(r.Context(), id, *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/import", flashImportCancelled)
	return nil
}

// importSend asks the server to go on with an import's sending now; it
// sends by itself anyway (activation.Imports.RunJobs), and the import
// page's live part follows its progress.
func (c *Console) importSend(w http.ResponseWriter, r *http.Request, p *Page) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := c.dom.Imports.Resume(r.Context(), id, *p.Caller)
	if err != nil {
		return err
	}
	if r.Header.Get("X-Live") != "" {
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(st)
	}
	redirect(w, r, fmt.Sprintf("/console/imports/%d", id), "")
	return nil
}

// --- messages
