// The composer's files: one tile each with a preview (images) or the file's kind, its name and size, a progress
// bar while it uploads, the server's refusal in words when it failed (Retry where trying again can help), and a
// button that cancels the upload or removes the file.
import { fileKind, formatSize } from '../../logic/attachments';
import { isUploading, percent, type DraftUpload } from '../../logic/uploads';
import { Icon } from '../Icon';

export function UploadTray({ drafts, onRemove, onRetry }: { drafts: readonly DraftUpload[]; onRemove: (key: string) => void; onRetry: (key: string) => void }) {
  if (drafts.length === 0) return null;
  return (
    <div className="upload-tray">
      <ul className="uploads" aria-label="Files to send" data-testid="uploads">
        {drafts.map((d) => (
          <UploadTile key={d.key} d={d} onRemove={() => onRemove(d.key)} onRetry={() => onRetry(d.key)} />
        ))}
      </ul>
      {isUploading(drafts) && (
        <p className="upload-hint" id="upload-hint" data-testid="upload-hint">
          Uploading… the message can be sent once its files are uploaded.
        </p>
      )}
    </div>
  );
}

function UploadTile({ d, onRemove, onRetry }: { d: DraftUpload; onRemove: () => void; onRetry: () => void }) {
  const busy = d.status === 'queued' || d.status === 'uploading';
  const pct = percent(d);
  return (
    <li className={`upload ${d.status}`} data-testid="upload" data-status={d.status} data-name={d.name}>
      <span className="upload-thumb" aria-hidden="true">
        {d.preview ? <img src={d.preview} alt="" /> : <span className="upload-kind">{fileKind(d.name)}</span>}
      </span>
      <span className="upload-text">
        <span className="upload-name" title={d.name}>
          {d.name}
        </span>
        <span className="upload-info">
          {formatSize(d.size)}
          {d.status === 'queued' && ' · waiting'}
          {d.status === 'uploading' && ` · ${pct}%`}
          {d.status === 'done' && ' · ready'}
        </span>
        {busy && (
          <span
            className="upload-bar"
            role="progressbar"
            aria-label={`Uploading ${d.name}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={pct}
            data-testid="upload-progress"
          >
            <span style={{ width: `${pct}%` }} />
          </span>
        )}
        {d.status === 'failed' && (
          <span className="upload-error" role="alert" data-testid="upload-error">
            {d.error}
            {d.retryable && (
              <>
                {' '}
                <button type="button" className="link" onClick={onRetry}>
                  Retry
                </button>
              </>
            )}
          </span>
        )}
      </span>
      <button type="button" className="upload-remove" onClick={onRemove} aria-label={busy ? `Cancel upload of ${d.name}` : `Remove ${d.name}`} title={busy ? 'Cancel upload' : 'Remove'}>
        <Icon name="close" />
      </button>
    </li>
  );
}
