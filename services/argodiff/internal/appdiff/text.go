package appdiff

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/gonvenience/bunt"
	"github.com/gonvenience/ytbx"
	"github.com/homeport/dyff/pkg/dyff"
	yamlv3 "gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var noColors sync.Once

// Text renders the object's change in dyff's "diff syntax": a header
// naming the object (apiVersion, kind, metadata.name, then an empty line),
// then for each changed path "@@ <dotted path> @@" and the change ("! ±
// value change" with "- old" and "+ new", or a list entry added or
// removed). A missing side is an empty object.
func (o Object) Text() (string, error) {
	noColors.Do(func() { bunt.SetColorSettings(bunt.OFF, bunt.OFF) })
	from, err := documents(o.Live)
	if err != nil {
		return "", fmt.Errorf("reading the live state of %s: %w", o.Title(), err)
	}
	to, err := documents(o.Target)
	if err != nil {
		return "", fmt.Errorf("reading the target state of %s: %w", o.Title(), err)
	}
	report, err := dyff.CompareInputFiles(
		ytbx.InputFile{Location: "live", Documents: from},
		ytbx.InputFile{Location: "target", Documents: to},
		dyff.KubernetesEntityDetection(false),
	)
	if err != nil {
		return "", fmt.Errorf("comparing %s: %w", o.Title(), err)
	}
	var b bytes.Buffer
	b.WriteString(o.header())
	w := &dyff.DiffSyntaxReport{
		PathPrefix:            "@@",
		RootDescriptionPrefix: "#",
		ChangeTypePrefix:      "!",
		HumanReport: dyff.HumanReport{
			Report:                report,
			Indent:                0,
			DoNotInspectCerts:     true,
			NoTableStyle:          true,
			OmitHeader:            true,
			MultilineContextLines: 4,
			MinorChangeThreshold:  0.1,
		},
	}
	if err := w.WriteReport(&b); err != nil {
		return "", fmt.Errorf("writing the diff of %s: %w", o.Title(), err)
	}
	return strings.TrimRight(b.String(), "\n") + "\n", nil
}

// header names the object as its first lines.
func (o Object) header() string {
	u := o.Target
	if u == nil {
		u = o.Live
	}
	apiVersion, kind := "", o.Key.Kind
	if u != nil {
		apiVersion = u.GetAPIVersion()
	}
	return fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n", apiVersion, kind, o.Key.Name)
}

func documents(u *unstructured.Unstructured) ([]*yamlv3.Node, error) {
	data := []byte("{}\n")
	if u != nil {
		var err error
		if data, err = yaml.Marshal(u.Object); err != nil {
			return nil, err
		}
	}
	return ytbx.LoadYAMLDocuments(data)
}
