import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { applyStoredTheme } from './ui/useTheme';
import './styles.css';
import './theme-dark.css';
import './profile.css';
import './timeline.css';

applyStoredTheme();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
